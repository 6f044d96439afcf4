package dev.kiln.graph.exec;

import static dev.kiln.graph.opt.PassesTest.f32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.GraphException;
import dev.kiln.graph.Guard;
import dev.kiln.graph.ReferenceInterpreter;
import dev.kiln.graph.Value;
import dev.kiln.graph.opt.Differential;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.graph.opt.PassesTest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CompiledGraphTest {

    static Strided randomParam(long seed, int... shape) {
        Strided s = Strided.allocate(DType.FLOAT32, shape);
        java.util.Random r = new java.util.Random(seed);
        for (int i = 0; i < s.numel(); i++) s.storage().f32()[i] = (float) r.nextGaussian();
        return s;
    }

    /** Broadcast operands, a where on a comparison, an i64 input cast to f32, and gelu/relu epilogues. */
    static Graph mixed() {
        GraphBuilder b = Graph.builder("mixed");
        Value x = b.addInput("x", f32("N", 16));
        Value k = b.addInput("k", new TensorType(DType.INT64, new Dim[] {Dim.symbol("N"), Dim.of(1)}));
        Value w = b.addParam("w", f32(16, 32), randomParam(1, 16, 32));
        Value bias = b.addParam("b", f32(32), randomParam(2, 32));
        Value w2 = b.addParam("w2", f32(32, 32), randomParam(3, 32, 32));
        Value scale = b.addParam("scale", f32(1, 16), randomParam(4, 1, 16));
        Value xs = b.add(Op.MUL, Attrs.EMPTY, "Mixed.java:10", x, scale);
        Value kf = b.add(Op.CAST, Attrs.of("dtype", DType.FLOAT32), "Mixed.java:11", k);
        Value shifted = b.add(Op.ADD, Attrs.EMPTY, "Mixed.java:12", xs, kf);
        Value pos = b.add(Op.GT, Attrs.EMPTY, "Mixed.java:13", shifted, x);
        Value sel = b.add(Op.WHERE, Attrs.EMPTY, "Mixed.java:14", pos, shifted, b.add(Op.TANH, Attrs.EMPTY, "Mixed.java:14", x));
        Value h = b.add(Op.GELU, Attrs.of("approximate", "none"), "Mixed.java:15",
                b.add(Op.ADD, Attrs.EMPTY, "Mixed.java:15", b.add(Op.MATMUL, Attrs.EMPTY, "Mixed.java:15", sel, w), bias));
        Value h2 = b.add(Op.RELU, Attrs.EMPTY, "Mixed.java:16", b.add(Op.ADDMM, Attrs.EMPTY, "Mixed.java:16", bias, h, w2));
        Value y = b.add(Op.CLAMP, Attrs.of("min", -0.5, "max", 2.0), "Mixed.java:17", b.add(Op.SUB, Attrs.EMPTY, "Mixed.java:17", h2, h));
        return b.output(y).output(h).build();
    }

    @Test
    void fusedPlanMatchesTheReferenceForSeveralBatches() {
        Graph g = mixed();
        Differential.check(g, g, PassesTest.BATCHES, 1e-5);
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2).withVerify(true));
        String text = c.explain(Map.of("N", 64L));
        assertTrue(text.contains("gemm+epilogue") && text.contains("fused"), text);
        assertTrue(text.contains("Mixed.java:15"), text);
        assertEquals(1, c.cachedPlans());
        c.run(Differential.randomInputs(g, Map.of("N", 3L), 9));
        assertEquals(2, c.cachedPlans(), "a new batch size gets its own plan");
    }

    @Test
    void fusedIsBitIdenticalToTheReference() {
        Graph g = mixed();
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2));
        // fused loops read the same ElementwiseSpec row loops as eager kernels, and an addmm adds its
        // bias first as eager does: not one bit may differ, at any batch or fused block size
        for (long n : new long[] {1, 7, 64, 65, 300}) {
            List<Strided> in = Differential.randomInputs(g, Map.of("N", n), n);
            Differential.assertClose(ReferenceInterpreter.run(g, in), c.run(in), 0, "O2 N=" + n);
        }
        CompiledGraph odd = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2).withBlockSize(100));
        List<Strided> in = Differential.randomInputs(g, Map.of("N", 37L), 37);
        Differential.assertClose(ReferenceInterpreter.run(g, in), odd.run(in), 0, "O2 with 100-element blocks");
    }

    /**
     * Linear layers on batches of rows: [N, 7, 16] @ [16, 32] + bias with gelu (one GEMM over all
     * N*7 rows, then the epilogue), the same input transposed from [N, 16, 7] (its rows are no
     * single run in memory: eager's per-batch kernel, then the epilogue), a 4-D [N, 3, 5, 16]
     * @ [16, 8] alone, and [N, 8, 256] @ [256, 128] + bias with relu, whose 1024-row chunks (from
     * N = 128) are finished by every thread. Bit-identical to the reference at every batch.
     */
    @Test
    void matmulsOverBatchesOfRowsRunAsGemmStepsWithTheReferencesBits() {
        GraphBuilder b = Graph.builder("rows");
        Value x = b.addInput("x", f32("N", 7, 16));
        Value xt = b.addInput("xt", f32("N", 16, 7));
        Value x4 = b.addInput("x4", f32("N", 3, 5, 16));
        Value w = b.addParam("w", f32(16, 32), randomParam(11, 16, 32));
        Value bias = b.addParam("b", f32(32), randomParam(12, 32));
        Value w4 = b.addParam("w4", f32(16, 8), randomParam(13, 16, 8));
        Value h = b.add(Op.GELU, Attrs.of("approximate", "none"), "Rows.java:1",
                b.add(Op.ADD, Attrs.EMPTY, "Rows.java:1", b.add(Op.MATMUL, Attrs.EMPTY, "Rows.java:1", x, w), bias));
        Value swapped = b.add(Op.PERMUTE, Attrs.of("dims", new int[] {0, 2, 1}), "Rows.java:2", xt);
        Value ht = b.add(Op.RELU, Attrs.EMPTY, "Rows.java:3",
                b.add(Op.ADD, Attrs.EMPTY, "Rows.java:3", b.add(Op.MATMUL, Attrs.EMPTY, "Rows.java:3", swapped, w), bias));
        Value y4 = b.add(Op.MATMUL, Attrs.EMPTY, "Rows.java:4", x4, w4);
        Value xw = b.addInput("xw", f32("N", 8, 256));
        Value ww = b.addParam("ww", f32(256, 128), randomParam(14, 256, 128));
        Value bw = b.addParam("bw", f32(128), randomParam(15, 128));
        Value hw = b.add(Op.RELU, Attrs.EMPTY, "Rows.java:5",
                b.add(Op.ADD, Attrs.EMPTY, "Rows.java:5", b.add(Op.MATMUL, Attrs.EMPTY, "Rows.java:5", xw, ww), bw));
        // the transposed rows again, alone (a softmax after it is no epilogue): into its slot
        Value wl = b.addParam("wl", f32(16, 32), randomParam(16, 16, 32));
        Value lone = b.add(Op.SOFTMAX, Attrs.of("dim", -1), "Rows.java:6", b.add(Op.MATMUL, Attrs.EMPTY, "Rows.java:6", swapped, wl));
        Graph g = b.output(h).output(ht).output(y4).output(hw).output(lone).build();
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2));
        String text = c.explain(Map.of("N", 64L));
        assertEquals(3, text.split("gemm\\+epilogue", -1).length - 1, "three matmuls with their epilogues:\n" + text);
        assertTrue(text.contains("gemm "), "the 4-D matmul as a lone GEMM step:\n" + text);
        assertTrue(text.contains("matmul -> f32[64,7,32] [slot"), "the lone transposed-rows product in a slot:\n" + text);
        for (long n : new long[] {1, 2, 7, 64, 65, 160, 300}) {
            List<Strided> in = Differential.randomInputs(g, Map.of("N", n), n);
            Differential.assertClose(ReferenceInterpreter.run(g, in), c.run(in), 0, "O2 N=" + n);
        }
    }

    /**
     * A linear layer on [N, 7, 16] as eager runs it (reshape to rows, addmm, reshape back) with
     * a gelu after it, another with a residual add, and a 2-D matmul reshaped back and multiplied
     * (an input gradient's shape): each product finishes in the group through the reshape (written
     * where the group's output goes), with the reference's bits at batches around the GEMM's row
     * chunks.
     */
    @Test
    void anAddmmReshapedBackToItsBatchTakesTheGroupAfterItAsItsEpilogue() {
        GraphBuilder b = Graph.builder("linear3d");
        Value x = b.addInput("x", f32("N", 7, 16));
        Value res = b.addInput("res", f32("N", 7, 32));
        Value w = b.addParam("w", f32(16, 32), randomParam(21, 16, 32));
        Value bias = b.addParam("b", f32(32), randomParam(22, 32));
        Value w2 = b.addParam("w2", f32(32, 32), randomParam(23, 32, 32));
        Value bias2 = b.addParam("b2", f32(32), randomParam(24, 32));
        Value rows = b.add(Op.RESHAPE, Attrs.of("shape", new int[] {-1, 16}), "Lin.java:1", x);
        Value h = b.add(Op.GELU, Attrs.of("approximate", "none"), "Lin.java:2",
                b.add(Op.RESHAPE, Attrs.of("shape", new int[] {-1, 7, 32}), "Lin.java:1", b.add(Op.ADDMM, Attrs.EMPTY, "Lin.java:1", bias, rows, w)));
        Value hRows = b.add(Op.RESHAPE, Attrs.of("shape", new int[] {-1, 32}), "Lin.java:3", h);
        Value y = b.add(Op.ADD, Attrs.EMPTY, "Lin.java:4",
                b.add(Op.RESHAPE, Attrs.of("shape", new int[] {-1, 7, 32}), "Lin.java:3", b.add(Op.ADDMM, Attrs.EMPTY, "Lin.java:3", bias2, hRows, w2)), res);
        // an input gradient's shape: a matmul of 2-D operands (no bias) reshaped back, times an input
        Value w3 = b.addParam("w3", f32(32, 16), randomParam(25, 32, 16));
        Value dx = b.add(Op.MUL, Attrs.EMPTY, "Lin.java:5",
                b.add(Op.RESHAPE, Attrs.of("shape", new int[] {-1, 7, 16}), "Lin.java:5", b.add(Op.MATMUL, Attrs.EMPTY, "Lin.java:5", hRows, w3)), x);
        Graph g = b.output(y).output(dx).build();
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2));
        String text = c.explain(Map.of("N", 64L));
        assertEquals(2, text.split("gemm\\+epilogue +%\\d+ addmm, %\\d+ reshape, ", -1).length - 1, "both addmms finish in their groups:\n" + text);
        assertEquals(1, text.split("gemm\\+epilogue +%\\d+ matmul, %\\d+ reshape, %\\d+ mul", -1).length - 1, "so does the matmul:\n" + text);
        sameBitsRunAfterRun(g, c, 2, 1000, "linear3d O2", 1, 2, 7, 64, 65, 160, 300);
    }

    /**
     * Attention's batched products as kernel steps, two attention blocks in a row: each block's
     * scores [N, 2, T, T] (intermediates) are written into an arena slot, the second block's
     * after the first's are dead (so into a reused slot), the output (it leaves the run) into a
     * fresh buffer. Run after run with new inputs, at T = 9 and at T = 64 (the batch spread over
     * the pool), each result equals the reference's bits: a slot holding stale scores would show.
     */
    @Test
    void batchedMatmulsWriteIntoReusedSlotsWithTheReferencesBits() {
        for (int t : new int[] {9, 64}) {
            GraphBuilder b = Graph.builder("heads");
            Value[] qkv = headInputs(b, t);
            Value q = qkv[0], h = qkv[2];
            Value kt = b.add(Op.PERMUTE, Attrs.of("dims", new int[] {0, 1, 3, 2}), "Heads.java:1", qkv[1]);
            Value query = q;
            for (int block = 0; block < 2; block++) { // the second block's queries are the first's output
                Value scores = b.add(Op.MATMUL, Attrs.EMPTY, "Heads.java:" + block, query, kt);
                Value p = b.add(Op.SOFTMAX, Attrs.of("dim", -1), "Heads.java:" + block, scores);
                h = b.add(Op.MATMUL, Attrs.EMPTY, "Heads.java:" + block, p, h);
                query = h;
            }
            Graph g = b.output(h).build();
            CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2));
            String text = c.explain(Map.of("N", 5L));
            String scoresType = "matmul -> f32[5,2," + t + "," + t + "]", valuesType = "matmul -> f32[5,2," + t + ",8]";
            assertEquals(2, text.split(java.util.regex.Pattern.quote(scoresType + " [slot "), -1).length - 1, text);
            assertEquals(1, text.split(java.util.regex.Pattern.quote(valuesType + " [slot "), -1).length - 1, "the first block's values: " + text);
            assertTrue(text.contains(valuesType + " [output]"), text);
            sameBitsRunAfterRun(g, c, 4, 100, "T=" + t, 1, 5, 33);
        }
    }

    /**
     * Attention's scale and causal mask as a fused group after the batched score product: the
     * bool [T, T] mask, broadcast over [N, 2, T, T], is widened to floats once per run and then
     * copied per block. At T = 9 and 64, several batches, run after run: the reference's bits,
     * hidden scores included (-inf, then 0 after the softmax).
     */
    @Test
    void aBroadcastBoolMaskInAFusedGroupGivesTheReferencesBits() {
        for (int t : new int[] {9, 64}) {
            GraphBuilder b = Graph.builder("masked");
            Value[] qkv = headInputs(b, t);
            Value q = qkv[0], k = qkv[1], v = qkv[2];
            Strided keep = Strided.allocate(DType.BOOL, new int[] {t, t});
            for (int i = 0; i < t; i++) for (int j = 0; j <= i; j++) keep.storage().bool()[i * t + j] = true;
            Value allowed = b.addConstant("allowed", new TensorType(DType.BOOL, new Dim[] {Dim.of(t), Dim.of(t)}), keep);
            Strided root = Strided.allocate(DType.FLOAT32, new int[0]);
            root.storage().f32()[0] = (float) Math.sqrt(8);
            Value scale = b.addConstant("scale", f32(), root);
            Strided ninf = Strided.allocate(DType.FLOAT32, new int[0]);
            ninf.storage().f32()[0] = Float.NEGATIVE_INFINITY;
            Value hidden = b.addConstant("hidden", f32(), ninf);
            Value kt = b.add(Op.PERMUTE, Attrs.of("dims", new int[] {0, 1, 3, 2}), "Masked.java:1", k);
            Value scores = b.add(Op.DIV, Attrs.EMPTY, "Masked.java:2", b.add(Op.MATMUL, Attrs.EMPTY, "Masked.java:2", q, kt), scale);
            Value masked = b.add(Op.WHERE, Attrs.EMPTY, "Masked.java:3", allowed, scores, hidden);
            Value y = b.add(Op.MATMUL, Attrs.EMPTY, "Masked.java:4", b.add(Op.SOFTMAX, Attrs.of("dim", -1), "Masked.java:4", masked), v);
            Graph g = b.output(y).output(masked).build();
            CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2));
            String text = c.explain(Map.of("N", 5L));
            assertTrue(java.util.regex.Pattern.compile("fused +%\\d+ div, %\\d+ where").matcher(text).find(), "the scale and mask fused:\n" + text);
            sameBitsRunAfterRun(g, c, 3, 100, "T=" + t, 1, 5, 33);
        }
    }

    /**
     * The row kernels with write-into kernels (layer_norm, its x gradient, softmax, its gradient)
     * and cat, as kernel steps whose results land in arena slots, reused run after run with new
     * inputs: each result has the reference's bits (a slot with stale rows would show), at
     * several batches, rows of 33 (off the vector width) and 128.
     */
    @Test
    void rowKernelsAndCatWriteIntoReusedSlotsWithTheReferencesBits() {
        for (int c : new int[] {33, 128}) {
            GraphBuilder b = Graph.builder("rows");
            Value x = b.addInput("x", f32("N", 5, c));
            Value g = b.addInput("g", f32("N", 5, c));
            Value w = b.addParam("w", f32(c), randomParam(31, c));
            Value bias = b.addParam("b", f32(c), randomParam(32, c));
            Attrs ln = Attrs.of("dims", 1, "eps", 1e-5);
            Value y = b.add(Op.LAYER_NORM, ln, "Rows.java:1", x, w, bias);
            Value p = b.add(Op.SOFTMAX, Attrs.of("dim", -1), "Rows.java:2", y);
            Value dp = b.add(Op.SOFTMAX_BACKWARD, Attrs.of("dim", -1), "Rows.java:3", g, p);
            Value dx = b.add(Op.LAYER_NORM_GRAD, Attrs.of("wrt", "x", "dims", 1, "eps", 1e-5), "Rows.java:4", x, dp, w);
            Value joined = b.add(Op.CAT, Attrs.of("dim", 2), "Rows.java:5", p, dp, dx);
            Value out = b.add(Op.SOFTMAX, Attrs.of("dim", -1), "Rows.java:6", joined);
            Graph graph = b.output(out).build();
            CompiledGraph compiled = CompiledGraph.compile(graph, CompileOptions.of(OptLevel.O2));
            String text = compiled.explain(Map.of("N", 4L));
            for (String op : new String[] {"layer_norm", "softmax_backward", "layer_norm_grad", "cat"}) {
                assertTrue(java.util.regex.Pattern.compile("%\\d+ " + op + " -> f32\\[[0-9,]+\\] \\[slot ").matcher(text).find(), op + " into a slot:\n" + text);
            }
            sameBitsRunAfterRun(graph, compiled, 3, 10, "C=" + c, 1, 4, 65);
        }
    }

    /** Attention inputs q, k, v: [N, 2 heads, t, 8]. */
    private static Value[] headInputs(GraphBuilder b, int t) {
        return new Value[] {b.addInput("q", f32("N", 2, t, 8)), b.addInput("k", f32("N", 2, t, 8)), b.addInput("v", f32("N", 2, t, 8))};
    }

    /** runs times over each batch, with new inputs each time (seed = seedStep * run + n): the reference's bits. */
    private static void sameBitsRunAfterRun(Graph g, CompiledGraph c, int runs, int seedStep, String label, long... batches) {
        for (int run = 0; run < runs; run++) {
            for (long n : batches) {
                List<Strided> in = Differential.randomInputs(g, Map.of("N", n), seedStep * run + n);
                Differential.assertClose(ReferenceInterpreter.run(g, in), c.run(in), 0, label + ", run " + run + ", N=" + n);
            }
        }
    }

    @Test
    void elementwiseChainStreamsInPlaceAndReusesSlots() {
        GraphBuilder b = Graph.builder("chain");
        Value x = b.addInput("x", f32("N", 64));
        Value w = b.addParam("w", f32(64, 64), randomParam(5, 64, 64));
        Value h = x;
        for (int i = 0; i < 6; i++) {
            Value mm = b.add(Op.MATMUL, Attrs.EMPTY, "Chain.java:" + i, h, w);
            h = b.add(Op.RELU, Attrs.EMPTY, "Chain.java:" + i, mm);
        }
        b.output(b.add(Op.SUM, Attrs.of("dims", new int[] {1}), "Chain.java:9", h));
        Graph g = b.build();
        Differential.check(g, g, PassesTest.BATCHES, 1e-4);
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2));
        Map<String, Long> n = Map.of("N", 64L);
        assertTrue(c.peakBytes(n) < c.sumIntermediateBytes(n) / 2, c.explain(n));
        assertTrue(c.explain(n).contains("2 arena slots"), c.explain(n));
    }

    @Test
    void failuresNameTheNodeAndItsSourceLine() {
        GraphBuilder b = Graph.builder("bad");
        Value x = b.addInput("x", f32(4));
        Value i = b.addInput("i", new TensorType(DType.INT64, new Dim[] {Dim.of(2)}));
        b.output(b.add(Op.INDEX_SELECT, Attrs.of("dim", 0), "Model.java:42", b.add(Op.EXP, Attrs.EMPTY, "Model.java:41", x), i));
        Graph g = b.build();
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2));
        Strided idx = Strided.allocate(DType.INT64, new int[] {2});
        idx.storage().i64()[1] = 99;
        GraphException e = assertThrows(GraphException.class, () -> c.run(List.of(Strided.allocate(DType.FLOAT32, new int[] {4}), idx)));
        assertTrue(e.getMessage().contains("index_select %") && e.getMessage().contains("Model.java:42"), e.getMessage());
    }

    @Test
    void guardsAreChecked() {
        GraphBuilder b = Graph.builder("guarded");
        Value x = b.addInput("x", f32(2));
        Value s = b.add(Op.SUM, Attrs.EMPTY, "G.java:1", x);
        b.addGuard(new Guard("item", "sum(x) > 0", b.add(Op.GT, Attrs.EMPTY, "G.java:2", s, b.addConstant("z", f32(), PassesTest.scalar(0))),
                new double[] {1}, "G.java:2"));
        b.output(b.add(Op.NEG, Attrs.EMPTY, "G.java:3", x));
        Graph g = b.build();
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2));
        Strided ok = Strided.allocate(DType.FLOAT32, new int[] {2});
        ok.storage().f32()[0] = 3;
        assertEquals(-3f, c.run(List.of(ok)).get(0).storage().f32()[0]);
        GraphException e = assertThrows(GraphException.class, () -> c.run(List.of(Strided.allocate(DType.FLOAT32, new int[] {2}))));
        assertTrue(e.getMessage().contains("guard failed") && e.getMessage().contains("G.java:2"), e.getMessage());
    }
}
