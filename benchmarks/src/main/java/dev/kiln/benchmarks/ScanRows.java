package dev.kiln.benchmarks;

import dev.kiln.Kiln;
import dev.kiln.backend.Strided;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.LSTM;
import dev.kiln.graph.Graph;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Tracer;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The LSTM's time loop as a scan node against the same loop unrolled into the graph (how
 * nn.LSTM was traced before scan): inference of a one-layer LSTM, batch 64, hidden 128, input
 * 64, at T = 16, 64 and 256, compiled at O2, median milliseconds. The unrolled form is traced
 * at each T (it only runs at that T); the scanned one is traced once, with T symbolic. Both
 * compute exactly the same ops, so the gap is the scan's per-step cost (a cached body plan,
 * slicing the input, copying each step's output into the stacked result).
 *
 * <pre>java --add-modules jdk.incubator.vector -cp ... dev.kiln.benchmarks.ScanRows</pre>
 */
public final class ScanRows {
    private ScanRows() {}

    /** The LSTM's layer written as a Java loop, as RNNBase did before scan: unrolled when traced. */
    static Function<Tensor[], Tensor> unrolled(LSTM lstm, int steps) {
        Tensor wih = lstm.namedParameters().get("weight_ih_l0"), whh = lstm.namedParameters().get("weight_hh_l0");
        Tensor bih = lstm.namedParameters().get("bias_ih_l0"), bhh = lstm.namedParameters().get("bias_hh_l0");
        return in -> {
            Tensor seq = in[0].transpose(0, 1);
            Tensor proj = seq.matmul(wih.t()).add(bih);
            Tensor h = Tensor.zerosLike(seq.select(0, 0).narrow(1, 0, 1)).expand(-1, lstm.hiddenSize), c = h;
            Tensor[] hs = new Tensor[steps];
            for (int t = 0; t < steps; t++) {
                List<Tensor> g = proj.select(0, t).add(h.matmul(whh.t()).add(bhh)).chunk(4, -1);
                Tensor i = g.get(0).sigmoid(), f = g.get(1).sigmoid(), cell = g.get(2).tanh(), o = g.get(3).sigmoid();
                c = f.mul(c).add(i.mul(cell));
                h = o.mul(c.tanh());
                hs[t] = h;
            }
            return Tensor.stack(List.of(hs), 0).transpose(0, 1);
        };
    }

    private static double median(double[] v) {
        double[] c = v.clone();
        java.util.Arrays.sort(c);
        return c[c.length / 2];
    }

    public static void main(String[] args) {
        Kiln.manualSeed(0);
        int batch = 64, in = 64, hidden = 128;
        LSTM lstm = new LSTM(in, hidden, 1, true, true);
        lstm.eval();
        Graph scanned;
        try (var ng = Autograd.noGrad()) {
            scanned = Tracer.trace(lstm, new Tensor[] {Tensor.randn(batch, 8, in)},
                    TraceOptions.builder().name("lstm_scan").dynamic(0, 1, "T").build());
        }
        CompiledGraph scan = CompiledGraph.compile(scanned, CompileOptions.of(OptLevel.O2));
        System.out.println("| T | scan (ms) | unrolled (ms) | scan / unrolled (median of alternating pairs) | eager (ms) |");
        System.out.println("|---|---|---|---|---|");
        for (int t : new int[] {16, 64, 256}) {
            Tensor x = Tensor.randn(batch, t, in);
            Graph unrolledGraph;
            try (var ng = Autograd.noGrad()) {
                Function<Tensor[], Tensor> f = unrolled(lstm, t);
                unrolledGraph = Tracer.trace(f, new Tensor[] {x}, TraceOptions.builder().name("lstm_unrolled").build());
                float[] a = lstm.call(x).toFloatArray(), b = f.apply(new Tensor[] {x}).toFloatArray();
                for (int k = 0; k < a.length; k++) {
                    if (Math.abs(a[k] - b[k]) > 1e-5) throw new AssertionError("the unrolled form differs from nn.LSTM at " + k);
                }
            }
            CompiledGraph unr = CompiledGraph.compile(unrolledGraph, CompileOptions.of(OptLevel.O2));
            List<Strided> data = List.of(x.data());
            int reps = t >= 256 ? 31 : 61;
            // the two plans alternate, and the verdict is the median of the per-pair ratios: this
            // machine's speed drifts within seconds, which separate medians would fold into the ratio
            for (int i = 0; i < 5; i++) {
                scan.run(data);
                unr.run(data);
            }
            double[] ts = new double[reps], tu = new double[reps], ratio = new double[reps];
            for (int i = 0; i < reps; i++) {
                long a = System.nanoTime();
                scan.run(data);
                long b = System.nanoTime();
                unr.run(data);
                long c = System.nanoTime();
                ts[i] = (b - a) / 1e6;
                tu[i] = (c - b) / 1e6;
                ratio[i] = ts[i] / tu[i];
            }
            double s = median(ts), u = median(tu), r = median(ratio);
            double e = Median.ms(() -> {
                try (var ng = Autograd.noGrad()) {
                    return lstm.call(x);
                }
            }, reps, 5);
            System.out.printf(Locale.ROOT, "| %d | %.2f | %.2f | %.2f | %.2f |%n", t, s, u, r, e);
        }
    }
}
