package dev.kiln.serialization;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Value;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Random;

/** A fixed small model, and its artifact as an editable JSON tree, for the malformed-file tests. */
final class SmallModels {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private SmallModels() {}

    /** {@code softmax(relu(x @ w + b) * c0)} over {@code x: f32[N,4]}. */
    static Graph mlp() {
        Random r = new Random(1);
        GraphBuilder b = Graph.builder("mlp");
        Value x = b.addInput("x", new TensorType(DType.FLOAT32, new Dim[] {Dim.symbol("N"), Dim.of(4)}));
        Value w = b.addParam("fc.weight", TensorType.of(DType.FLOAT32, 4, 3), RandomGraphs.randn(r, 4, 3));
        Value bias = b.addParam("fc.bias", TensorType.of(DType.FLOAT32, 3), RandomGraphs.randn(r, 3));
        Value c = b.addConstant("c0", TensorType.of(DType.FLOAT32), Strided.contiguous(Storage.wrap(new float[] {0.5f}), new int[0]));
        Value h = b.add(Op.ADDMM, Attrs.EMPTY, "Mlp.java:10", bias, x, w);
        h = b.add(Op.RELU, Attrs.EMPTY, "Mlp.java:11", h);
        h = b.add(Op.MUL, Attrs.EMPTY, null, h, c);
        h = b.add(Op.SOFTMAX, Attrs.of("dim", 1), "Mlp.java:12", h);
        return b.output(h).putMetadata("author", "test").build();
    }

    static ObjectNode tree(Graph g) {
        try {
            return (ObjectNode) MAPPER.readTree(KilnWriter.toJson(g));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] bytes(ObjectNode n) {
        try {
            return MAPPER.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
