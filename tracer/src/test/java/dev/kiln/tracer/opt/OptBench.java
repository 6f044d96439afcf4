package dev.kiln.tracer.opt;

import dev.kiln.Kiln;
import dev.kiln.backend.Strided;
import dev.kiln.eager.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Tracer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Eager vs traced+O2 compiled timings (docs/graph-opt.md quotes them). Not a test: run with
 * {@code java --add-modules jdk.incubator.vector -XX:UseAVX=3 -cp ... dev.kiln.tracer.opt.OptBench}.
 * Each figure is the median of several timed batches after warm-up, since other work may share the machine.
 */
public final class OptBench {
    private OptBench() {}

    public static void main(String[] args) {
        Kiln.manualSeed(1);
        Tensor x = Tensor.randn(1024, 1024), w = Tensor.randn(1024), b = Tensor.randn(1024);
        Graph gg = Tracer.trace(in -> in[0].mul(w).add(b).gelu(), new Tensor[] {x},
                TraceOptions.builder().name("gelu").dynamic(0, 0, "N").params(Map.of("w", w, "b", b)).build());
        CompiledGraph gc = CompiledGraph.compile(gg, CompileOptions.of(OptLevel.O2));
        List<Strided> gin = List.of(x.data());
        report("gelu(x*w+b) 2^20 f32", 5, () -> x.mul(w).add(b).gelu(), () -> gc.run(gin));

        Tensor[] p = TracedOptTest.mlpParams(784, 256, 128, 10);
        CompiledGraph mc = CompiledGraph.compile(TracedOptTest.traceMlp(p, 784), CompileOptions.of(OptLevel.O2));
        for (int batch : new int[] {64, 1}) {
            Tensor in = Tensor.randn(batch, 784);
            List<Strided> min = List.of(in.data());
            report("MLP 784-256-128-10 batch " + batch, batch == 1 ? 2000 : 100, () -> TracedOptTest.mlp(in, p), () -> mc.run(min));
        }
        System.out.println(mc.passReport());
        System.out.println(mc.graph());
        System.out.println(mc.explain(Map.of("N", 64L)));
    }

    private static void report(String what, int inner, Supplier<?> eager, Supplier<?> compiled) {
        for (int i = 0; i < 20; i++) {
            time(eager, inner);
            time(compiled, inner);
        }
        double[] e = new double[15], c = new double[15];
        for (int r = 0; r < 15; r++) { // interleaved, so both see the same machine load
            e[r] = time(eager, inner);
            c[r] = time(compiled, inner);
        }
        double me = median(e), mc = median(c);
        System.out.printf("%-40s eager %9.3f ms   compiled %9.3f ms   ratio %.2fx%n", what, me, mc, mc / me);
    }

    private static double time(Supplier<?> f, int inner) {
        long t0 = System.nanoTime();
        Object sink = null;
        for (int i = 0; i < inner; i++) sink = f.get();
        if (sink == null) throw new IllegalStateException();
        return (System.nanoTime() - t0) / 1e6 / inner;
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
