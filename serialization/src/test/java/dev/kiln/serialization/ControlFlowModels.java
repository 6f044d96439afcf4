package dev.kiln.serialization;

import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Assumption;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Guard;
import dev.kiln.graph.Value;
import java.util.List;
import java.util.Random;

/**
 * Hand-built control-flow graphs for the format 1.3 tests (this module sees the graph IR, not the
 * tracer): each with the inputs it runs on at a given size of its symbolic dim.
 */
final class ControlFlowModels {
    private ControlFlowModels() {}

    /** A graph and how to make random inputs for it with its symbolic dim at {@code size}. */
    record Model(Graph graph, Inputs inputs) {}

    @FunctionalInterface
    interface Inputs {
        List<Strided> make(Random r, int size);
    }

    static final Dim T = Dim.symbol("T"), N = Dim.symbol("N");

    static TensorType f32(Dim... shape) { return new TensorType(DType.FLOAT32, shape); }

    static TensorType f32(int... shape) { return TensorType.of(DType.FLOAT32, shape); }

    static TensorType f32Scalar() { return TensorType.of(DType.FLOAT32); }

    static Strided scalar(float v) { return Strided.contiguous(Storage.wrap(new float[] {v}), new int[0]); }

    /**
     * An RNN cell over a symbolic length T: {@code scan(h0, xs1, xs2, fc.weight, bias) {carries=1, captures=2}}
     * with one carry f32[1,4], two xs f32[T,1,4], two ys (f32[T,1,4] and f32[T]); it captures a
     * parameter and a graph input, its body has a constant, and an ordinary node reads output 1.
     */
    static Model rnn() {
        Random r = new Random(5);
        GraphBuilder body = Graph.builder("rnn_step");
        Value h = body.addInput("h", f32(1, 4));
        Value x1 = body.addInput("x1", f32(1, 4));
        Value x2 = body.addInput("x2", f32(1, 4));
        Value w = body.addInput("w", f32(4, 4));
        Value bias = body.addInput("b", f32(4));
        Value half = body.addConstant("half", f32Scalar(), scalar(0.5f));
        Value pre = body.add(Op.ADD, Attrs.EMPTY, "Rnn.java:20", body.add(Op.MATMUL, Attrs.EMPTY, "Rnn.java:20", h, w), x1);
        pre = body.add(Op.ADD, Attrs.EMPTY, "Rnn.java:21", pre, body.add(Op.MUL, Attrs.EMPTY, null, x2, bias));
        Value next = body.add(Op.TANH, Attrs.EMPTY, "Rnn.java:22", body.add(Op.MUL, Attrs.EMPTY, null, pre, half));
        Value y1 = body.add(Op.MUL, Attrs.EMPTY, null, next, x2);
        Value y2 = body.add(Op.SUM, Attrs.EMPTY, null, next);
        Graph step = body.output(next, "h").output(y1, "y1").output(y2, "y2").build();

        GraphBuilder b = Graph.builder("rnn");
        Value xs1 = b.addInput("xs1", f32(T, Dim.of(1), Dim.of(4)));
        Value xs2 = b.addInput("xs2", f32(T, Dim.of(1), Dim.of(4)));
        Value h0 = b.addInput("h0", f32(1, 4));
        Value bi = b.addInput("bias", f32(4));
        Value weight = b.addParam("fc.weight", f32(4, 4), RandomGraphs.randn(r, 4, 4));
        List<Value> out = b.addControl(Op.SCAN, Attrs.of("carries", 1, "captures", 2), List.of(step), "Rnn.java:30", h0, xs1, xs2, weight, bi);
        Value pooled = b.add(Op.SUM, Attrs.of("dims", new int[] {0}), "Rnn.java:31", out.get(1));
        b.addAssumption(new Assumption("mode", "eval mode", "Rnn.java:9"));
        Graph g = b.output(out.get(0), "h").output(pooled, "pooled").output(out.get(2), "scores").putMetadata("kind", "rnn").build();
        return new Model(g, (rnd, t) -> List.of(RandomGraphs.randn(rnd, t, 1, 4), RandomGraphs.randn(rnd, t, 1, 4),
                RandomGraphs.randn(rnd, 1, 4), RandomGraphs.randn(rnd, 4)));
    }

    /** {@code cond(sum(x) > 0, x)}: then (relu(x), sum(x)), else (-x - 1, sum(-x)), over x: f32[N,3]. */
    static Model cond() {
        GraphBuilder then = Graph.builder("positive");
        Value tx = then.addInput("x", f32(N, Dim.of(3)));
        Graph thenBody = then.output(then.add(Op.RELU, Attrs.EMPTY, null, tx), "y").output(then.add(Op.SUM, Attrs.EMPTY, null, tx), "s").build();
        GraphBuilder otherwise = Graph.builder("negative");
        Value ex = otherwise.addInput("x", f32(N, Dim.of(3)));
        Value one = otherwise.addConstant("one", f32Scalar(), scalar(1f));
        Value neg = otherwise.add(Op.NEG, Attrs.EMPTY, null, ex);
        Graph elseBody = otherwise.output(otherwise.add(Op.SUB, Attrs.EMPTY, null, neg, one), "y").output(otherwise.add(Op.SUM, Attrs.EMPTY, null, neg), "s").build();

        GraphBuilder b = Graph.builder("branchy");
        Value x = b.addInput("x", f32(N, Dim.of(3)));
        Value zero = b.addConstant("zero", f32Scalar(), scalar(0f));
        Value pred = b.add(Op.GT, Attrs.EMPTY, "Branchy.java:12", b.add(Op.SUM, Attrs.EMPTY, null, x), zero);
        List<Value> out = b.addControl(Op.COND, Attrs.EMPTY, List.of(thenBody, elseBody), "Branchy.java:13", pred, x);
        b.addGuard(new Guard("item", "zero is what the trace read", zero, new double[] {0}, "Branchy.java:11"));
        Graph g = b.output(out.get(0)).output(out.get(1)).build();
        return new Model(g, (rnd, n) -> List.of(RandomGraphs.randn(rnd, n, 3)));
    }

    /** {@code while i < 3: (i + 1, acc / 2 + x)} from (0, x), capturing x and the bound: a loop of carries f32[] and f32[N,3]. */
    static Model whileLoop() {
        List<TensorType> state = List.of(f32Scalar(), f32(N, Dim.of(3)), f32(N, Dim.of(3)), f32Scalar());
        GraphBuilder test = Graph.builder("more");
        Value[] ti = inputs(test, state);
        Graph condBody = test.output(test.add(Op.LT, Attrs.EMPTY, null, ti[0], ti[3]), "go").build();
        GraphBuilder step = Graph.builder("step");
        Value[] si = inputs(step, state);
        Value one = step.addConstant("one", f32Scalar(), scalar(1f));
        Value half = step.addConstant("half", f32Scalar(), scalar(0.5f));
        Value acc = step.add(Op.ADD, Attrs.EMPTY, null, step.add(Op.MUL, Attrs.EMPTY, null, si[1], half), si[2]);
        Graph stepBody = step.output(step.add(Op.ADD, Attrs.EMPTY, null, si[0], one), "i").output(acc, "acc").build();

        GraphBuilder b = Graph.builder("loop");
        Value x = b.addInput("x", f32(N, Dim.of(3)));
        Value i0 = b.addConstant("i0", f32Scalar(), scalar(0f));
        Value bound = b.addConstant("bound", f32Scalar(), scalar(3f));
        List<Value> out = b.addControl(Op.WHILE_LOOP, Attrs.of("captures", 2), List.of(condBody, stepBody), "Loop.java:7", i0, x, x, bound);
        Graph g = b.output(out.get(1), "acc").output(out.get(0), "steps").build();
        return new Model(g, (rnd, n) -> List.of(RandomGraphs.randn(rnd, n, 3)));
    }

    private static Value[] inputs(GraphBuilder b, List<TensorType> types) {
        String[] names = {"i", "acc", "x", "bound"};
        Value[] v = new Value[types.size()];
        for (int k = 0; k < v.length; k++) v[k] = b.addInput(names[k], types.get(k));
        return v;
    }

    /**
     * A scan nested in a scan body: over xs f32[T,3,4], the outer step scans its slice f32[3,4]
     * row by row ({@code a = tanh(a + row)}) and returns the final row state and the rows' sums.
     */
    static Model nestedScan() {
        GraphBuilder inner = Graph.builder("row");
        Value a = inner.addInput("a", f32(4));
        Value row = inner.addInput("row", f32(4));
        Value next = inner.add(Op.TANH, Attrs.EMPTY, null, inner.add(Op.ADD, Attrs.EMPTY, null, a, row));
        Graph innerBody = inner.output(next, "a").output(next, "seen").build();
        GraphBuilder outer = Graph.builder("block");
        Value acc = outer.addInput("acc", f32(4));
        Value block = outer.addInput("block", f32(3, 4));
        List<Value> rows = outer.addControl(Op.SCAN, Attrs.of("carries", 1), List.of(innerBody), "Nested.java:14", acc, block);
        Value sums = outer.add(Op.SUM, Attrs.of("dims", new int[] {1}), null, rows.get(1));
        Graph outerBody = outer.output(rows.get(0), "acc").output(sums, "sums").build();

        GraphBuilder b = Graph.builder("nested");
        Value xs = b.addInput("xs", f32(T, Dim.of(3), Dim.of(4)));
        Value start = b.addInput("start", f32(4));
        List<Value> out = b.addControl(Op.SCAN, Attrs.of("carries", 1, "reverse", true), List.of(outerBody), "Nested.java:20", start, xs);
        Graph g = b.output(out.get(0), "final").output(out.get(1), "sums").build();
        return new Model(g, (rnd, t) -> List.of(RandomGraphs.randn(rnd, t, 3, 4), RandomGraphs.randn(rnd, 4)));
    }

    /**
     * Conds nested {@code depth} levels deep: each level's then-branch holds the next cond, its
     * else-branch a leaf; everything runs on (p: bool[], x: f32[2]).
     */
    static Graph condChain(int depth) {
        GraphBuilder b = Graph.builder("chain");
        Value p = b.addInput("p", TensorType.of(DType.BOOL));
        Value x = b.addInput("x", f32(2));
        Value y = b.addControl(Op.COND, Attrs.EMPTY, List.of(chainLevel(depth), leaf()), null, p, p, x).get(0);
        return b.output(y).build();
    }

    private static Graph chainLevel(int k) {
        if (k == 1) return leaf();
        GraphBuilder b = Graph.builder("level" + k);
        Value p = b.addInput("p", TensorType.of(DType.BOOL));
        Value x = b.addInput("x", f32(2));
        return b.output(b.addControl(Op.COND, Attrs.EMPTY, List.of(chainLevel(k - 1), leaf()), null, p, p, x).get(0)).build();
    }

    private static Graph leaf() {
        GraphBuilder b = Graph.builder("leaf");
        b.addInput("p", TensorType.of(DType.BOOL));
        Value x = b.addInput("x", f32(2));
        return b.output(b.add(Op.NEG, Attrs.EMPTY, null, x)).build();
    }
}
