package dev.kiln.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Writes protobuf's wire format: tags, varints, fixed-width numbers and nested messages. */
final class ProtoWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    byte[] toByteArray() { return out.toByteArray(); }

    int size() { return out.size(); }

    private void tag(int field, int wire) { rawVarint(((long) field << 3) | wire); }

    private void rawVarint(long v) {
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    ProtoWriter int64(int field, long v) {
        tag(field, ProtoReader.VARINT);
        rawVarint(v);
        return this;
    }

    ProtoWriter float32(int field, float v) {
        tag(field, ProtoReader.FIXED32);
        int bits = Float.floatToRawIntBits(v);
        for (int i = 0; i < 4; i++) out.write(bits >>> (8 * i));
        return this;
    }

    ProtoWriter bytes(int field, byte[] b) {
        tag(field, ProtoReader.LEN);
        rawVarint(b.length);
        out.write(b, 0, b.length);
        return this;
    }

    ProtoWriter string(int field, String s) { return bytes(field, s.getBytes(StandardCharsets.UTF_8)); }

    ProtoWriter message(int field, ProtoWriter m) { return bytes(field, m.toByteArray()); }

    /** A packed repeated int64 field. */
    ProtoWriter packedInt64s(int field, long[] vs) {
        ProtoWriter p = new ProtoWriter();
        for (long v : vs) p.rawVarint(v);
        return bytes(field, p.toByteArray());
    }

    /** A packed repeated float field. */
    ProtoWriter packedFloats(int field, float[] vs) {
        byte[] b = new byte[vs.length * 4];
        for (int i = 0; i < vs.length; i++) {
            int bits = Float.floatToRawIntBits(vs[i]);
            for (int k = 0; k < 4; k++) b[4 * i + k] = (byte) (bits >>> (8 * k));
        }
        return bytes(field, b);
    }
}
