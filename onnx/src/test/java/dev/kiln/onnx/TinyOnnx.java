package dev.kiln.onnx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds small ONNX models field by field (onnx.proto's numbers), for tests that need one exact
 * node the PyTorch exporter does not write: a negative Gather index, integer Div, a colliding
 * initializer name, a ConstantOfShape bomb.
 */
final class TinyOnnx {
    private final List<ProtoWriter> nodes = new ArrayList<>(), inits = new ArrayList<>(), inputs = new ArrayList<>(), outputs = new ArrayList<>();

    /** A graph input or output; a dim is a Long (fixed) or a String (symbolic). */
    private static ProtoWriter valueInfo(String name, int elemType, Object... dims) {
        ProtoWriter shape = new ProtoWriter();
        for (Object d : dims) shape.message(1, d instanceof String s ? new ProtoWriter().string(2, s) : new ProtoWriter().int64(1, ((Number) d).longValue()));
        ProtoWriter tensor = new ProtoWriter().int64(1, elemType).message(2, shape);
        return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensor));
    }

    TinyOnnx input(String name, int elemType, Object... dims) {
        inputs.add(valueInfo(name, elemType, dims));
        return this;
    }

    TinyOnnx output(String name, int elemType, Object... dims) {
        outputs.add(valueInfo(name, elemType, dims));
        return this;
    }

    TinyOnnx node(String op, List<String> ins, String out, ProtoWriter... attrs) {
        ProtoWriter n = new ProtoWriter();
        for (String i : ins) n.string(1, i);
        n.string(2, out).string(3, out + "_" + op).string(4, op);
        for (ProtoWriter a : attrs) n.message(5, a);
        nodes.add(n);
        return this;
    }

    TinyOnnx floats(String name, float[] v, long... dims) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        inits.add(new ProtoWriter().packedInt64s(1, dims).int64(2, OnnxProto.FLOAT).string(8, name).bytes(9, b.array()));
        return this;
    }

    TinyOnnx longs(String name, long[] v, long... dims) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : v) b.putLong(x);
        ProtoWriter t = new ProtoWriter();
        if (dims.length > 0) t.packedInt64s(1, dims);
        inits.add(t.int64(2, OnnxProto.INT64).string(8, name).bytes(9, b.array()));
        return this;
    }

    static ProtoWriter attrInt(String name, long v) { return new ProtoWriter().string(1, name).int64(20, OnnxProto.ATTR_INT).int64(3, v); }

    byte[] bytes(int opset) {
        ProtoWriter g = new ProtoWriter();
        for (ProtoWriter n : nodes) g.message(1, n);
        g.string(2, "tiny");
        for (ProtoWriter t : inits) g.message(5, t);
        for (ProtoWriter i : inputs) g.message(11, i);
        for (ProtoWriter o : outputs) g.message(12, o);
        return new ProtoWriter().int64(1, 8).message(7, g).message(8, new ProtoWriter().string(1, "").int64(2, opset)).toByteArray();
    }

    Path write(Path dir, String file) throws IOException {
        Path p = dir.resolve(file);
        Files.write(p, bytes(17));
        return p;
    }
}
