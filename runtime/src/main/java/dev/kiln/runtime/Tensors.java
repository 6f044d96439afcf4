package dev.kiln.runtime;

import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import java.util.Arrays;

/**
 * Java arrays in and out of the runtime's tensors ({@link Strided}: storage, shape, strides),
 * always in C order (the last dim varies fastest), as numpy and PyTorch lay them out.
 */
public final class Tensors {
    private Tensors() {}

    public static Strided of(float[] data, int... shape) { return wrap(Storage.wrap(data.clone()), data.length, shape); }

    public static Strided of(double[] data, int... shape) { return wrap(Storage.wrap(data.clone()), data.length, shape); }

    public static Strided of(long[] data, int... shape) { return wrap(Storage.wrap(data.clone()), data.length, shape); }

    public static Strided of(boolean[] data, int... shape) { return wrap(Storage.wrap(data.clone()), data.length, shape); }

    private static Strided wrap(Storage s, int length, int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a negative size");
            n *= d;
        }
        if (n != length) throw new IllegalArgumentException(length + " values do not fill shape " + Arrays.toString(shape) + " (" + n + " values)");
        return Strided.contiguous(s, shape.clone());
    }

    /** The values in C order (a copy). */
    public static float[] toFloatArray(Strided t) { return contiguous(t, DType.FLOAT32).storage().f32(); }

    public static double[] toDoubleArray(Strided t) { return contiguous(t, DType.FLOAT64).storage().f64(); }

    public static long[] toLongArray(Strided t) { return contiguous(t, DType.INT64).storage().i64(); }

    public static boolean[] toBooleanArray(Strided t) { return contiguous(t, DType.BOOL).storage().bool(); }

    private static Strided contiguous(Strided t, DType want) {
        if (t.dtype() != want) throw new IllegalArgumentException("the tensor is " + t.dtype().shortName() + ", not " + want.shortName());
        return Copy.toContiguous(t, want); // always a fresh copy, so the caller owns the array
    }
}
