package dev.kiln.eager.io;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.backend.shape.Shapes;
import dev.kiln.eager.Tensor;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A typed binary encoding of state trees (maps, lists, numbers, strings, tensors) as found in
 * state dicts. Exact Java number types round-trip (int stays int), tensors are raw
 * little-endian bytes, and every declared length is checked against the bytes left before
 * anything is allocated.
 */
final class StateCodec {
    private StateCodec() {}

    private static final int NULL = 0, BOOL = 1, INT = 2, LONG = 3, DOUBLE = 4, STRING = 5, TENSOR = 6, LIST = 7, MAP = 8;
    private static final int MAX_DEPTH = 64;

    static void write(DataOutputStream out, Object v) throws IOException {
        if (v == null) out.writeByte(NULL);
        else if (v instanceof Boolean b) { out.writeByte(BOOL); out.writeBoolean(b); }
        else if (v instanceof Integer i) { out.writeByte(INT); out.writeInt(i); }
        else if (v instanceof Long l) { out.writeByte(LONG); out.writeLong(l); }
        else if (v instanceof Double || v instanceof Float) { out.writeByte(DOUBLE); out.writeDouble(((Number) v).doubleValue()); }
        else if (v instanceof String s) { out.writeByte(STRING); out.writeUTF(s); }
        else if (v instanceof Tensor t) writeTensor(out, t);
        else if (v instanceof List<?> list) {
            out.writeByte(LIST);
            out.writeInt(list.size());
            for (Object o : list) write(out, o);
        } else if (v instanceof Map<?, ?> map) {
            out.writeByte(MAP);
            out.writeInt(map.size());
            for (Map.Entry<?, ?> e : map.entrySet()) {
                out.writeUTF(String.valueOf(e.getKey()));
                write(out, e.getValue());
            }
        } else {
            throw new IllegalArgumentException("checkpoint: cannot store a value of type " + v.getClass().getName());
        }
    }

    private static void writeTensor(DataOutputStream out, Tensor t) throws IOException {
        out.writeByte(TENSOR);
        out.writeUTF(t.dtype().shortName());
        int[] shape = t.shape();
        out.writeInt(shape.length);
        for (int d : shape) out.writeInt(d);
        Strided c = Copy.toContiguous(t.data(), t.dtype());
        int n = c.numel();
        ByteBuffer buf = ByteBuffer.allocate(n * t.dtype().itemSize()).order(ByteOrder.LITTLE_ENDIAN);
        switch (t.dtype()) {
            case FLOAT32 -> buf.asFloatBuffer().put(c.storage().f32(), 0, n);
            case FLOAT64 -> buf.asDoubleBuffer().put(c.storage().f64(), 0, n);
            case INT64 -> buf.asLongBuffer().put(c.storage().i64(), 0, n);
            case BOOL -> { boolean[] b = c.storage().bool(); for (int i = 0; i < n; i++) buf.put(i, (byte) (b[i] ? 1 : 0)); }
        }
        out.write(buf.array());
    }

    /** Reads one value; {@code remaining} bounds every allocation. */
    static Object read(DataInputStream in, long remaining, String where, int depth) throws IOException {
        if (depth > MAX_DEPTH) throw new CheckpointException(where + ": nesting deeper than " + MAX_DEPTH);
        int tag = in.readUnsignedByte();
        switch (tag) {
            case NULL: return null;
            case BOOL: return in.readBoolean();
            case INT: return in.readInt();
            case LONG: return in.readLong();
            case DOUBLE: return in.readDouble();
            case STRING: return in.readUTF();
            case TENSOR: return readTensor(in, remaining, where);
            case LIST: {
                int n = count(in, remaining, where);
                List<Object> list = new ArrayList<>(n);
                for (int i = 0; i < n; i++) list.add(read(in, remaining, where + "[" + i + "]", depth + 1));
                return list;
            }
            case MAP: {
                int n = count(in, remaining, where);
                Map<String, Object> map = new LinkedHashMap<>();
                for (int i = 0; i < n; i++) {
                    String k = in.readUTF();
                    if (map.containsKey(k)) throw new CheckpointException(where + ": duplicate key '" + k + "'");
                    map.put(k, read(in, remaining, where + "." + k, depth + 1));
                }
                return map;
            }
            default: throw new CheckpointException(where + ": unknown value tag " + tag + " (corrupt file)");
        }
    }

    private static int count(DataInputStream in, long remaining, String where) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > remaining) throw new CheckpointException(where + ": declared " + n + " entries but only " + remaining + " bytes remain");
        return n;
    }

    private static Tensor readTensor(DataInputStream in, long remaining, String where) throws IOException {
        DType dtype;
        try {
            dtype = DType.fromShortName(in.readUTF());
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(where + ": " + e.getMessage());
        }
        int rank = in.readInt();
        if (rank < 0 || rank > 32) throw new CheckpointException(where + ": tensor rank " + rank + " is out of range");
        int[] shape = new int[rank];
        long numel = 1;
        for (int i = 0; i < rank; i++) {
            shape[i] = in.readInt();
            if (shape[i] < 0) throw new CheckpointException(where + ": negative dim " + shape[i]);
            numel = Math.multiplyExact(numel, shape[i]);
        }
        long bytes = Math.multiplyExact(numel, (long) dtype.itemSize());
        if (bytes > remaining) throw new CheckpointException(where + ": tensor " + dtype + Shapes.toString(shape) + " needs " + bytes + " bytes, only " + remaining + " remain");
        byte[] raw = new byte[(int) bytes];
        in.readFully(raw);
        ByteBuffer buf = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) numel;
        return switch (dtype) {
            case FLOAT32 -> { float[] a = new float[n]; buf.asFloatBuffer().get(a); yield Tensor.of(a, shape); }
            case FLOAT64 -> { double[] a = new double[n]; buf.asDoubleBuffer().get(a); yield Tensor.of(a, shape); }
            case INT64 -> { long[] a = new long[n]; buf.asLongBuffer().get(a); yield Tensor.of(a, shape); }
            case BOOL -> { boolean[] a = new boolean[n]; for (int i = 0; i < n; i++) a[i] = raw[i] != 0; yield Tensor.of(a, shape); }
        };
    }
}
