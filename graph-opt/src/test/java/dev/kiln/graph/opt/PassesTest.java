package dev.kiln.graph.opt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Guard;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import dev.kiln.graph.Verifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

public class PassesTest {
    public static final List<Map<String, Long>> BATCHES = List.of(Map.of("N", 1L), Map.of("N", 7L), Map.of("N", 64L));

    public static TensorType f32(Object... dims) {
        Dim[] d = new Dim[dims.length];
        for (int i = 0; i < dims.length; i++) d[i] = dims[i] instanceof String s ? Dim.symbol(s) : Dim.of((Integer) dims[i]);
        return new TensorType(DType.FLOAT32, d);
    }

    public static Strided scalar(double v) {
        return Strided.contiguous(Storage.wrap(new float[] {(float) v}), new int[0]);
    }

    static Strided vec(int n, double start) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (start + 0.25 * i);
        return Strided.contiguous(Storage.wrap(a), new int[] {n});
    }

    /** A graph with something for every pass to do. */
    static Graph messy() {
        GraphBuilder b = Graph.builder("messy");
        Value x = b.addInput("x", f32("N", 8));
        Value one = b.addConstant("one", f32(), scalar(1));
        Value one2 = b.addConstant("one2", f32(), scalar(1));
        Value zero = b.addConstant("zero", f32(), scalar(-0.0)); // -0: x + (-0) is x exactly, x + (+0) is not (-0 + 0 = +0)
        Value ca = b.addConstant("ca", f32(8), vec(8, 0.5));
        Value cb = b.addConstant("cb", f32(8), vec(8, -1));
        Value a = b.add(Op.MUL, Attrs.EMPTY, "M.java:1", x, one);
        Value s = b.add(Op.ADD, Attrs.EMPTY, "M.java:2", zero, a);
        Value n1 = b.add(Op.NEG, Attrs.EMPTY, "M.java:3", s);
        Value n2 = b.add(Op.NEG, Attrs.EMPTY, "M.java:4", n1);
        Value p1 = b.add(Op.PERMUTE, Attrs.of("dims", new int[] {1, 0}), "M.java:5", n2);
        Value p2 = b.add(Op.PERMUTE, Attrs.of("dims", new int[] {1, 0}), "M.java:6", p1);
        Value r1 = b.add(Op.RESHAPE, Attrs.of("shape", new int[] {-1, 2, 4}), "M.java:7", p2);
        Value r2 = b.add(Op.UNSQUEEZE, Attrs.of("dim", 1), "M.java:8", r1);
        Value r3 = b.add(Op.FLATTEN, Attrs.of("start", 1), "M.java:9", r2);
        Value c = b.add(Op.CAST, Attrs.of("dtype", DType.FLOAT32), "M.java:10", r3);
        Value e1 = b.add(Op.TANH, Attrs.EMPTY, "M.java:11", c);
        Value e2 = b.add(Op.TANH, Attrs.EMPTY, "M.java:12", c);
        Value sum = b.add(Op.ADD, Attrs.EMPTY, "M.java:13", e1, e2);
        b.add(Op.SIN, Attrs.EMPTY, "M.java:14", x); // dead
        Value cc = b.add(Op.MUL, Attrs.EMPTY, "M.java:15", ca, cb);
        Value scaled = b.add(Op.MUL, Attrs.EMPTY, "M.java:16", sum, b.add(Op.MUL, Attrs.EMPTY, "M.java:17", cc, one2));
        Value sm = b.add(Op.SOFTMAX, Attrs.of("dim", 1), "M.java:18", scaled);
        Value out = b.add(Op.LOG, Attrs.EMPTY, "M.java:19", sm);
        return b.output(out).build();
    }

    private static PassResult runVerified(Pass p, Graph g) {
        PassResult r = p.run(g);
        Verifier.verify(r.graph());
        Differential.check(g, r.graph(), BATCHES, 1e-5);
        return r;
    }

    @Test
    void addingPositiveZeroIsNotFoldedBecauseItTurnsMinusZeroIntoZero() {
        GraphBuilder b = Graph.builder("plus_zero");
        Value x = b.addInput("x", f32("N", 8));
        Value sum = b.add(Op.ADD, Attrs.EMPTY, "Z.java:1", x, b.addConstant("zero", f32(), scalar(0)));
        Value diff = b.add(Op.SUB, Attrs.EMPTY, "Z.java:2", sum, b.addConstant("mzero", f32(), scalar(-0.0)));
        PassResult r = new AlgebraicSimplification().run(b.output(diff).build());
        assertEquals(0, r.total(), r.graph().toString());
    }

    @Test
    void eachPassAloneIsVerifiedAndComputesTheSame() {
        Graph g = messy();
        Verifier.verify(g);
        PassResult simp = runVerified(new AlgebraicSimplification(), g);
        assertEquals(Map.of("x*1", 2, "x+0", 1, "neg(neg(x))", 1, "permute(permute(x))", 1, "reshape chain", 2, "cast to same dtype", 1),
                simp.stats(), simp.graph().toString());
        PassResult inf = runVerified(new InferenceRewrites(), g);
        assertEquals(1, inf.total());
        assertTrue(inf.graph().toString().contains("log_softmax("), inf.graph().toString());
        PassResult fold = runVerified(new ConstantFolding(false), g);
        assertEquals(Map.of("nodes folded", 2), fold.stats());
        PassResult cse = runVerified(new CommonSubexpressionElimination(), g);
        assertEquals(Map.of("nodes merged", 1, "constants merged", 1), cse.stats());
        PassResult dce = runVerified(new DeadCodeElimination(), g);
        assertEquals(Map.of("nodes removed", 1, "constants removed", 0), dce.stats());
    }

    @Test
    void maxPoolingRecordedForAGradientBecomesOneKernelForInference() {
        // reshape(gather(flatten(x, 2), flatten(max_pool2d_indices(x), 2))): F.maxPool2d's form when a gradient may follow
        GraphBuilder b = Graph.builder("pool");
        Value x = b.addInput("x", new TensorType(DType.FLOAT32, new Dim[] {Dim.symbol("N"), Dim.of(3), Dim.of(8), Dim.of(7)}));
        Value idx = b.add(Op.MAX_POOL2D_INDICES, Attrs.of("kernel_size", new int[] {3, 2}, "stride", new int[] {2, 2}, "padding", new int[] {1, 1},
                "dilation", new int[] {1, 1}, "ceil_mode", true), "P.java:1", x);
        Value flat = b.add(Op.FLATTEN, Attrs.of("start", 2), "P.java:1", x);
        Value flatIdx = b.add(Op.FLATTEN, Attrs.of("start", 2), "P.java:1", idx);
        Value gathered = b.add(Op.GATHER, Attrs.of("dim", 2), "P.java:1", flat, flatIdx);
        Value pooled = b.add(Op.RESHAPE, Attrs.of("shape", new int[] {-1, 3, 5, 4}), "P.java:1", gathered);
        Graph g = b.output(b.add(Op.RELU, Attrs.EMPTY, "P.java:2", pooled)).build();
        Verifier.verify(g);
        PassResult r = runVerified(new InferenceRewrites(), g);
        assertEquals(Map.of("max pooling gather -> max_pool2d", 1), r.stats(), r.graph().toString());
        Graph cleaned = new DeadCodeElimination().run(r.graph()).graph();
        assertTrue(cleaned.toString().contains("max_pool2d(%x)") && !cleaned.toString().contains("gather"), cleaned.toString());
        Differential.check(g, cleaned, BATCHES, 0);
        // a training step's backward also reads the indices: the rewrite would compute the argmax twice
        GraphBuilder t = Graph.builder("pool_step");
        Value tx = t.addInput("x", new TensorType(DType.FLOAT32, new Dim[] {Dim.symbol("N"), Dim.of(3), Dim.of(8), Dim.of(7)}));
        Value tidx = t.add(Op.MAX_POOL2D_INDICES, Attrs.of("kernel_size", new int[] {2, 2}, "stride", new int[] {2, 2}), "P.java:1", tx);
        Value tg = t.add(Op.GATHER, Attrs.of("dim", 2), "P.java:1", t.add(Op.FLATTEN, Attrs.of("start", 2), "P.java:1", tx),
                t.add(Op.FLATTEN, Attrs.of("start", 2), "P.java:1", tidx));
        Value tpool = t.add(Op.RESHAPE, Attrs.of("shape", new int[] {-1, 3, 4, 3}), "P.java:1", tg);
        Value used = t.add(Op.CAST, Attrs.of("dtype", DType.FLOAT32), "P.java:3", tidx); // a second reader of the indices
        Graph step = t.output(t.add(Op.ADD, Attrs.EMPTY, "P.java:4", tpool, used)).build();
        assertEquals(0, new InferenceRewrites().run(step).total(), "indices with another reader stay");
    }

    @Test
    void levelO2CleansTheWholeGraph() {
        Graph g = messy();
        List<String> dumps = new ArrayList<>();
        OptimizationResult r = PassManager.builder().level(OptLevel.O2).verify(true).dump(dumps::add).build().run(g);
        Differential.check(g, r.graph(), BATCHES, 1e-5);
        // exp, add (e+e), mul by the folded constant, log_softmax
        List<Op> ops = r.graph().nodes().stream().map(Node::op).toList();
        assertEquals(List.of(Op.TANH, Op.ADD, Op.MUL, Op.LOG_SOFTMAX), ops, r.graph().toString());
        assertEquals(1, r.graph().constants().size(), r.graph().toString());
        assertTrue(dumps.get(0).startsWith("=== before simplify"), dumps.get(0));
        assertTrue(r.report().toString().contains("simplify"), r.report().toString());
        assertTrue(r.report().total("dce") > 0);
    }

    @Test
    void levelsAndSwitches(@TempDir Path dir) throws Exception {
        Graph g = messy();
        assertEquals(g.nodes().size(), PassManager.builder().level(OptLevel.O0).build().run(g).graph().nodes().size());
        OptimizationResult noDce = PassManager.builder().level(OptLevel.O1).disable("dce").verify(true).build().run(g);
        assertTrue(noDce.graph().nodes().stream().anyMatch(n -> n.op() == Op.SIN), "dce was switched off");
        assertFalse(noDce.graph().nodes().stream().anyMatch(n -> n.op() == Op.LOG_SOFTMAX), "O1 has no inference rewrites");
        OptimizationResult withInf = PassManager.builder().level(OptLevel.O1).enable("inference").dumpTo(dir).build().run(g);
        assertTrue(withInf.graph().nodes().stream().anyMatch(n -> n.op() == Op.LOG_SOFTMAX));
        assertTrue(Files.exists(dir.resolve("001-simplify-before.txt")));
        assertTrue(Files.readString(dir.resolve("001-simplify-after.txt")).contains("graph messy"));
    }

    @Test
    void identitiesThatBroadcastAreKept() {
        GraphBuilder b = Graph.builder("bcast");
        Value x = b.addInput("x", f32(8));
        Value ones = b.addConstant("ones", f32(4, 8), onesOf(4, 8));
        b.output(b.add(Op.MUL, Attrs.EMPTY, null, x, ones));
        Graph g = b.build();
        PassResult r = runVerified(new AlgebraicSimplification(), g);
        assertFalse(r.changed(), "x[8] * ones[4,8] changes the shape and must stay");
    }

    static Strided onesOf(int... shape) {
        Strided s = Strided.allocate(DType.FLOAT32, shape);
        java.util.Arrays.fill(s.storage().f32(), 1f);
        return s;
    }

    @Test
    void foldingSkipsBlowUpsAndFoldsFrozenParams() {
        GraphBuilder b = Graph.builder("fold");
        Value x = b.addInput("x", f32("N", 4));
        Value big = b.add(Op.EXPAND, Attrs.of("shape", new int[] {512, 512}), null, b.addConstant("s", f32(), scalar(2)));
        Value w = b.addParam("w", f32(8, 4), onesOf(8, 4));
        Value wt = b.add(Op.PERMUTE, Attrs.of("dims", new int[] {1, 0}), null, w);
        Value y = b.add(Op.MATMUL, Attrs.EMPTY, null, x, wt);
        b.output(y).output(big);
        Graph g = b.build();
        PassResult thawed = runVerified(new ConstantFolding(false), g);
        assertFalse(thawed.changed(), "expand of a scalar to 512x512 is not folded; params are not constants");
        PassResult frozen = runVerified(new ConstantFolding(true), g);
        assertEquals(1, frozen.total(), frozen.graph().toString());
        assertFalse(frozen.graph().nodes().stream().anyMatch(n -> n.op() == Op.PERMUTE));
    }

    @Test
    void guardedValuesArePinned() {
        GraphBuilder b = Graph.builder("guarded");
        Value x = b.addInput("x", f32(2));
        Value m = b.add(Op.MUL, Attrs.EMPTY, null, x, b.addConstant("one", f32(), scalar(1)));
        Value m2 = b.add(Op.MUL, Attrs.EMPTY, null, x, b.addConstant("one2", f32(), scalar(1)));
        b.addGuard(new Guard("value", "x*1 is [1, 2]", m, new double[] {1, 2}, "G.java:3"));
        b.output(m2);
        Graph g = b.build();
        Graph o = PassManager.builder().level(OptLevel.O2).verify(true).build().run(g).graph();
        assertEquals(1, o.nodes().size(), o.toString());
        assertEquals(o.guards().get(0).value(), o.nodes().get(0).output(), "the guarded node survives DCE, CSE and simplification");
    }
}
