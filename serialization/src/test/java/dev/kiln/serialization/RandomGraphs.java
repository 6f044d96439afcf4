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
 * Random graphs for round-trip tests: a chain over an input {@code f32[N,w]} (symbolic batch)
 * of elementwise, matmul/addmm, reduction and view ops, with parameters, a scalar constant,
 * an i64/bool side path, guards, assumptions and metadata, so every part of the format is used.
 */
final class RandomGraphs {
    private RandomGraphs() {}

    static Graph generate(Random r, int length) {
        GraphBuilder b = Graph.builder("g" + r.nextInt(1000));
        int w = 1 + r.nextInt(6);
        Value x = b.addInput("x", new TensorType(DType.FLOAT32, new Dim[] {Dim.symbol("N"), Dim.of(w)}));
        float cv = r.nextFloat();
        Value c = b.addConstant("c0", TensorType.of(DType.FLOAT32), Strided.contiguous(Storage.wrap(new float[] {cv}), new int[0]));
        int params = 0;
        for (int i = 0; i < length; i++) {
            int k = r.nextInt(12);
            String src = r.nextBoolean() ? "Model.java:" + (10 + i) : null;
            switch (k) {
                case 0 -> x = b.add(Op.RELU, Attrs.EMPTY, src, x);
                case 1 -> x = b.add(Op.TANH, Attrs.EMPTY, src, x);
                case 2 -> x = b.add(Op.GELU, Attrs.of("approximate", r.nextBoolean() ? "tanh" : "none"), src, x);
                case 3 -> x = b.add(Op.MUL, Attrs.EMPTY, src, x, c);
                case 4 -> {
                    Value bias = b.addParam("p" + params++ + ".bias", TensorType.of(DType.FLOAT32, w), randn(r, w));
                    x = b.add(Op.ADD, Attrs.EMPTY, src, x, bias);
                }
                case 5 -> {
                    int w2 = 1 + r.nextInt(6);
                    Value wt = b.addParam("p" + params++ + ".weight", TensorType.of(DType.FLOAT32, w, w2), randn(r, w, w2));
                    x = b.add(Op.MATMUL, Attrs.EMPTY, src, x, wt);
                    w = w2;
                }
                case 6 -> {
                    int w2 = 1 + r.nextInt(6);
                    Value wt = b.addParam("p" + params++ + ".weight", TensorType.of(DType.FLOAT32, w, w2), randn(r, w, w2));
                    Value bias = b.addParam("p" + params++ + ".bias", TensorType.of(DType.FLOAT32, w2), randn(r, w2));
                    x = b.add(Op.ADDMM, Attrs.EMPTY, src, bias, x, wt);
                    w = w2;
                }
                case 7 -> {
                    Value s = b.add(Op.SUM, Attrs.of("dims", new int[] {1}, "keepdim", true), src, x);
                    x = b.add(Op.SUB, Attrs.EMPTY, src, x, s);
                }
                case 8 -> x = b.add(Op.SOFTMAX, Attrs.of("dim", 1), src, x);
                case 9 -> {
                    Value u = b.add(Op.UNSQUEEZE, Attrs.of("dim", 1), src, x);
                    x = b.add(Op.RESHAPE, Attrs.of("shape", new int[] {-1, w}), src, u);
                }
                case 10 -> {
                    Value t = b.add(Op.PERMUTE, Attrs.of("dims", new int[] {1, 0}), src, x);
                    x = b.add(Op.PERMUTE, Attrs.of("dims", new int[] {1, 0}), src, b.add(Op.CLONE, Attrs.EMPTY, src, t));
                }
                default -> {
                    Value mask = b.add(Op.GT, Attrs.EMPTY, src, x, c);
                    Value idx = b.add(Op.ARGMAX, Attrs.of("dim", 1, "keepdim", true), src, x);
                    Value f = b.add(Op.CAST, Attrs.of("dtype", DType.FLOAT32), src, idx);
                    x = b.add(Op.WHERE, Attrs.EMPTY, src, mask, x, b.add(Op.CLAMP, Attrs.of("min", Double.NEGATIVE_INFINITY, "max", 1e-3), src, f));
                }
            }
        }
        b.output(x);
        b.output(b.add(Op.AMAX, Attrs.of("dims", new int[] {1}), null, x));
        b.addGuard(new Guard("item", "c0 is what the trace read", c, new double[] {cv}, "Model.java:3"));
        b.addAssumption(new Assumption("mode", "eval mode", "Model.java:2"));
        b.putMetadata("seed", Long.toString(r.nextLong()));
        b.putMetadata("unicode", "λ ✓");
        return b.build();
    }

    static Strided randn(Random r, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return Strided.contiguous(Storage.wrap(a), shape);
    }

    static List<Strided> inputsFor(Graph g, Random r, int batch) {
        int w = (int) g.inputs().get(0).type().dim(1).value();
        return List.of(randn(r, batch, w));
    }
}
