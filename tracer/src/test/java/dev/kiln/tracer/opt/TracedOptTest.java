package dev.kiln.tracer.opt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.backend.Strided;
import dev.kiln.eager.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ReferenceInterpreter;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.graph.opt.OptimizationResult;
import dev.kiln.graph.opt.PassManager;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Tracer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class TracedOptTest {

    static Tensor mlp(Tensor x, Tensor[] p) {
        Tensor h = x.matmul(p[0].t()).add(p[1]).relu();
        h = h.matmul(p[2].t()).add(p[3]).relu();
        return h.matmul(p[4].t()).add(p[5]).logSoftmax(1);
    }

    static Tensor[] mlpParams(int... widths) {
        Tensor[] p = new Tensor[2 * (widths.length - 1)];
        for (int i = 0; i + 1 < widths.length; i++) {
            p[2 * i] = Tensor.randn(widths[i + 1], widths[i]).mul(1.0 / Math.sqrt(widths[i]));
            p[2 * i + 1] = Tensor.randn(widths[i + 1]).mul(0.1);
        }
        return p;
    }

    static Graph traceMlp(Tensor[] p, int in) {
        Map<String, Tensor> named = new HashMap<>();
        for (int i = 0; i < p.length; i++) named.put("fc" + (i / 2 + 1) + (i % 2 == 0 ? ".weight" : ".bias"), p[i]);
        TraceOptions o = TraceOptions.builder().name("mlp").dynamic(0, 0, "N").params(named).build();
        return Tracer.trace(x -> mlp(x[0], p), new Tensor[] {Tensor.randn(5, in)}, o);
    }

    @Test
    void tracedMlpOptimizesAndCompilesToTheSameResults() {
        Kiln.manualSeed(3);
        Tensor[] p = mlpParams(20, 16, 12, 5);
        Graph g = traceMlp(p, 20);
        OptimizationResult r = PassManager.builder().level(OptLevel.O2).freezeParams(true).verify(true).build().run(g);
        assertTrue(r.report().total("fold") >= 3, "the three weight transposes fold when params are frozen\n" + r.report());
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2).withVerify(true));
        String plan = c.explain(Map.of("N", 64L));
        assertEquals(3, plan.split("gemm\\+epilogue", -1).length - 1, plan);
        for (int n : new int[] {1, 7, 64}) {
            Tensor x = Tensor.randn(n, 20);
            Tensor expected = mlp(x, p);
            List<Strided> in = List.of(x.data());
            assertTrue(Tensor.wrap(ReferenceInterpreter.run(r.graph(), in).get(0)).allclose(expected, 1e-5, 1e-5), "optimized graph, batch " + n);
            assertTrue(Tensor.wrap(c.run(in).get(0)).allclose(expected, 1e-5, 1e-5), "compiled, batch " + n);
        }
    }

    @Test
    void tracedGeluChainFusesIntoOneLoop() {
        Kiln.manualSeed(4);
        Tensor w = Tensor.randn(256), b = Tensor.randn(256);
        TraceOptions o = TraceOptions.builder().name("gelu").dynamic(0, 0, "N").params(Map.of("w", w, "b", b)).build();
        Graph g = Tracer.trace(x -> x[0].mul(w).add(b).gelu(), new Tensor[] {Tensor.randn(3, 256)}, o);
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2).withVerify(true));
        String plan = c.explain(Map.of("N", 7L));
        assertTrue(plan.contains("1 steps (1 fused)"), plan);
        for (int n : new int[] {1, 7, 64}) {
            Tensor x = Tensor.randn(n, 256).mul(3.0);
            Tensor expected = x.mul(w).add(b).gelu();
            assertTrue(Tensor.wrap(c.run(List.of(x.data())).get(0)).allclose(expected, 1e-6, 1e-6), "batch " + n);
        }
    }

    @Test
    void eightThreadsShareOneCompiledMlp() throws Exception {
        Kiln.manualSeed(5);
        Tensor[] p = mlpParams(32, 24, 16, 10);
        CompiledGraph c = CompiledGraph.compile(traceMlp(p, 32), CompileOptions.of(OptLevel.O2));
        int[] batches = {1, 7, 64};
        List<Tensor> xs = new ArrayList<>();
        List<Tensor> expected = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            Tensor x = Tensor.randn(batches[i % 3], 32);
            xs.add(x);
            expected.add(mlp(x, p));
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int seed = t;
                done.add(pool.submit(() -> {
                    int checked = 0;
                    for (int i = 0; i < 1000; i++) {
                        int k = (seed * 7 + i) % xs.size();
                        Tensor out = Tensor.wrap(c.run(List.of(xs.get(k).data())).get(0));
                        if (!out.allclose(expected.get(k), 1e-5, 1e-5)) throw new AssertionError("thread " + seed + " run " + i + " input " + k);
                        checked++;
                    }
                    return checked;
                }));
            }
            int total = 0;
            for (Future<Integer> f : done) total += f.get();
            assertEquals(8000, total);
        } finally {
            pool.shutdownNow();
        }
        assertEquals(3, c.cachedPlans(), "one plan per batch size, however many threads asked for it");
    }

    @Test
    void plannedPeakOfAnMlpChainIsUnderHalfOfAllIntermediates() {
        Kiln.manualSeed(6);
        Tensor[] p = mlpParams(64, 64, 64, 64, 64, 64, 64, 64);
        Map<String, Tensor> named = new HashMap<>();
        for (int i = 0; i < p.length; i++) named.put("p" + i, p[i]);
        Graph g = Tracer.trace(x -> {
            Tensor h = x[0];
            for (int i = 0; i < p.length; i += 2) h = h.matmul(p[i].t()).add(p[i + 1]).relu();
            return h.sum(1);
        }, new Tensor[] {Tensor.randn(4, 64)}, TraceOptions.builder().name("chain").dynamic(0, 0, "N").params(named).build());
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2));
        Map<String, Long> n = Map.of("N", 256L);
        long peak = c.peakBytes(n), sum = c.sumIntermediateBytes(n);
        assertTrue(peak < sum / 2, "peak " + peak + " vs all intermediates " + sum + "\n" + c.explain(n));
    }
}
