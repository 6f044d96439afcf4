package dev.kiln.onnx;

import dev.kiln.serialization.KilnFormatException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;

/**
 * Reads protobuf's wire format from a byte range, checking every declared length against what
 * is left before anything is allocated or sliced. {@code where} is the message path used in
 * errors ({@code graph.node[3].attribute[0]}).
 */
final class ProtoReader {
    static final int VARINT = 0, FIXED64 = 1, LEN = 2, FIXED32 = 5;

    private final ByteBuffer buf;
    final String where;
    private int field, wire;

    ProtoReader(ByteBuffer buf, String where) {
        this.buf = buf.slice().order(ByteOrder.LITTLE_ENDIAN);
        this.where = where;
    }

    KilnFormatException error(String problem) { return KilnFormatException.at(where + " at byte " + buf.position(), problem); }

    /** Advances to the next field; false at the end of the message. */
    boolean next() {
        if (!buf.hasRemaining()) return false;
        long tag = varint();
        field = (int) (tag >>> 3);
        wire = (int) (tag & 7);
        if (field <= 0 || tag >>> 3 > Integer.MAX_VALUE) throw error("field number " + (tag >>> 3) + " is not valid");
        if (wire != VARINT && wire != FIXED64 && wire != LEN && wire != FIXED32)
            throw error("field " + field + " has wire type " + wire + " (groups and unknown types are not protobuf 3)");
        return true;
    }

    int field() { return field; }

    int wire() { return wire; }

    private void expect(int w, String what) {
        if (wire != w) throw error(what + " (field " + field + ") has wire type " + wire + ", expected " + w);
    }

    long varint() {
        long r = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            if (!buf.hasRemaining()) throw error("the message ends inside a varint");
            byte b = buf.get();
            if (shift == 63 && (b & 0x7e) != 0) throw error("a varint overflows 64 bits");
            r |= (long) (b & 0x7f) << shift;
            if (b >= 0) return r;
        }
        throw error("a varint is longer than 10 bytes");
    }

    long int64(String what) {
        expect(VARINT, what);
        return varint();
    }

    int int32(String what) {
        long v = int64(what);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) throw error(what + " " + v + " does not fit 32 bits");
        return (int) v;
    }

    float float32(String what) {
        expect(FIXED32, what);
        if (buf.remaining() < 4) throw error("the message ends inside " + what);
        return buf.getFloat();
    }

    /** A length-delimited field's bytes as a view (no copy). */
    ByteBuffer bytes(String what) {
        expect(LEN, what);
        long n = varint();
        if (n < 0 || n > buf.remaining()) throw error(what + " declares " + n + " bytes but " + buf.remaining() + " remain");
        ByteBuffer r = buf.slice().limit((int) n).order(ByteOrder.LITTLE_ENDIAN);
        buf.position(buf.position() + (int) n);
        return r;
    }

    String string(String what, int maxLength) {
        ByteBuffer b = bytes(what);
        if (b.remaining() > maxLength) throw error(what + " is " + b.remaining() + " bytes, more than the limit of " + maxLength);
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(b).toString();
        } catch (CharacterCodingException e) {
            throw error(what + " is not valid UTF-8");
        }
    }

    ProtoReader message(String what, String path) { return new ProtoReader(bytes(what), path); }

    /**
     * Repeated int64, packed or not; {@code sink} receives each value. Packed data is counted
     * before the caller allocates: {@link #packedCount} tells how many varints a run holds.
     */
    void int64s(String what, java.util.function.LongConsumer sink) {
        if (wire == LEN) {
            ProtoReader p = new ProtoReader(bytes(what), where + "." + what);
            while (p.buf.hasRemaining()) sink.accept(p.varint());
        } else {
            sink.accept(int64(what));
        }
    }

    void float32s(String what, FloatSink sink) {
        if (wire == LEN) {
            ByteBuffer b = bytes(what);
            if (b.remaining() % 4 != 0) throw error(what + " holds " + b.remaining() + " bytes, not a whole number of floats");
            while (b.hasRemaining()) sink.accept(b.getFloat());
        } else {
            sink.accept(float32(what));
        }
    }

    void float64s(String what, java.util.function.DoubleConsumer sink) {
        if (wire == LEN) {
            ByteBuffer b = bytes(what);
            if (b.remaining() % 8 != 0) throw error(what + " holds " + b.remaining() + " bytes, not a whole number of doubles");
            while (b.hasRemaining()) sink.accept(b.getDouble());
        } else {
            expect(FIXED64, what);
            if (buf.remaining() < 8) throw error("the message ends inside " + what);
            sink.accept(buf.getDouble());
        }
    }

    @FunctionalInterface
    interface FloatSink {
        void accept(float v);
    }

    /** Skips the current field's value (fields Kiln does not read). */
    void skip() {
        switch (wire) {
            case VARINT -> varint();
            case FIXED64 -> advance(8);
            case FIXED32 -> advance(4);
            default -> bytes("field " + field);
        }
    }

    private void advance(int n) {
        if (buf.remaining() < n) throw error("the message ends inside field " + field);
        buf.position(buf.position() + n);
    }
}
