package dev.kiln.serialization;

import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Tensor data as little-endian bytes in C order: the layout shared by embedded base64,
 * safetensors and .npy. Sizes are checked with overflow-safe arithmetic before any
 * allocation.
 */
public final class TensorBytes {
    private TensorBytes() {}

    /**
     * Bytes of a tensor of this dtype and shape, after checking every dim is non-negative and
     * the product neither overflows nor exceeds {@code maxBytes}. {@code path} names the shape
     * field in errors.
     */
    public static long checkedByteSize(DType dtype, long[] shape, long maxBytes, String path) {
        long n = 1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) throw KilnFormatException.at(path + "[" + i + "]", "negative dimension " + shape[i]);
            if (shape[i] > Integer.MAX_VALUE) throw KilnFormatException.at(path + "[" + i + "]", "dimension " + shape[i] + " exceeds 2^31-1");
        }
        try {
            for (long d : shape) n = Math.multiplyExact(n, d);
            long bytes = Math.multiplyExact(n, (long) dtype.itemSize());
            if (bytes > maxBytes) {
                throw KilnFormatException.at(path, "tensor of shape " + Arrays.toString(shape) + " needs " + bytes + " bytes, more than the limit of " + maxBytes
                        + LoadLimits.HEAP_HINT);
            }
            return bytes;
        } catch (ArithmeticException e) {
            throw KilnFormatException.at(path, "product of " + Arrays.toString(shape) + " overflows 64 bits (about 2^"
                    + Math.round(Arrays.stream(shape).mapToDouble(d -> Math.log(Math.max(d, 1)) / Math.log(2)).sum()) + ")");
        }
    }

    public static byte[] toBytes(Strided t) {
        Strided c = Copy.contiguousOf(t, t.dtype());
        int n = c.numel();
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(n, t.dtype().itemSize())).order(ByteOrder.LITTLE_ENDIAN);
        int off = c.offset();
        switch (t.dtype()) {
            case FLOAT32 -> { float[] a = c.storage().f32(); for (int i = 0; i < n; i++) b.putFloat(a[off + i]); }
            case FLOAT64 -> { double[] a = c.storage().f64(); for (int i = 0; i < n; i++) b.putDouble(a[off + i]); }
            case INT64 -> { long[] a = c.storage().i64(); for (int i = 0; i < n; i++) b.putLong(a[off + i]); }
            case BOOL -> { boolean[] a = c.storage().bool(); for (int i = 0; i < n; i++) b.put((byte) (a[off + i] ? 1 : 0)); }
        }
        return b.array();
    }

    /**
     * A tensor from exactly {@code numel * itemSize} bytes (the caller has checked the sizes).
     * Booleans must be 0 or 1, as in NumPy and safetensors.
     */
    public static Strided fromBytes(DType dtype, int[] shape, byte[] bytes, int from, String path) {
        int n = Math.toIntExact(Arrays.stream(shape).asLongStream().reduce(1, Math::multiplyExact));
        if ((long) n * dtype.itemSize() != bytes.length - (long) from) {
            throw KilnFormatException.at(path, "has " + (bytes.length - from) + " bytes of data but " + dtype + Arrays.toString(shape)
                    + " needs " + (long) n * dtype.itemSize());
        }
        ByteBuffer b = ByteBuffer.wrap(bytes, from, bytes.length - from).order(ByteOrder.LITTLE_ENDIAN);
        Storage s = switch (dtype) {
            case FLOAT32 -> { float[] a = new float[n]; b.asFloatBuffer().get(a); yield Storage.wrap(a); }
            case FLOAT64 -> { double[] a = new double[n]; b.asDoubleBuffer().get(a); yield Storage.wrap(a); }
            case INT64 -> { long[] a = new long[n]; b.asLongBuffer().get(a); yield Storage.wrap(a); }
            case BOOL -> {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) {
                    byte x = bytes[from + i];
                    if (x != 0 && x != 1) throw KilnFormatException.at(path, "bool element " + i + " is " + x + " (must be 0 or 1)");
                    a[i] = x == 1;
                }
                yield Storage.wrap(a);
            }
        };
        return Strided.contiguous(s, shape.clone());
    }

    static int[] toIntShape(long[] shape) {
        int[] s = new int[shape.length];
        for (int i = 0; i < s.length; i++) s[i] = (int) shape[i];
        return s;
    }

    /** IEEE 754 binary16 bits to float, exactly (Float.float16ToFloat needs Java 20); NaN payloads are kept. */
    public static float halfToFloat(short h) {
        int sign = (h & 0x8000) << 16, exp = (h >>> 10) & 0x1f, mant = h & 0x3ff;
        if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal (or zero): exact in float
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** bfloat16 bits to float: the upper half of the float's bits, exactly. */
    public static float bfloat16ToFloat(short h) { return Float.intBitsToFloat((h & 0xffff) << 16); }
}
