package dev.kiln.backend;

import dev.kiln.backend.shape.ShapeException;

/**
 * A flat, typed buffer on the CPU that tensors view with (shape, strides, offset). The
 * version counter is bumped by every in-place write so that autograd can detect saved
 * tensors that were modified after being saved.
 */
public final class Storage {
    private final DType dtype;
    private Object data;
    private final int length;
    private int version;

    private Storage(DType dtype, Object data, int length) {
        this.dtype = dtype;
        this.data = data;
        this.length = length;
    }

    public static Storage allocate(DType dtype, long n) {
        if (n < 0 || n > Integer.MAX_VALUE - 16) throw new ShapeException("cannot allocate " + n + " elements of " + dtype);
        int len = (int) n;
        Object data = switch (dtype) {
            case FLOAT32 -> new float[len];
            case FLOAT64 -> new double[len];
            case INT64 -> new long[len];
            case BOOL -> new boolean[len];
        };
        return new Storage(dtype, data, len);
    }

    public static Storage wrap(float[] a) { return new Storage(DType.FLOAT32, a, a.length); }

    public static Storage wrap(double[] a) { return new Storage(DType.FLOAT64, a, a.length); }

    public static Storage wrap(long[] a) { return new Storage(DType.INT64, a, a.length); }

    public static Storage wrap(boolean[] a) { return new Storage(DType.BOOL, a, a.length); }

    public DType dtype() { return dtype; }

    public int length() { return length; }

    public float[] f32() { return (float[]) data; }

    public double[] f64() { return (double[]) data; }

    public long[] i64() { return (long[]) data; }

    public boolean[] bool() { return (boolean[]) data; }

    public Object array() { return data; }

    public int version() { return version; }

    /**
     * Takes over the array of {@code donor} (same dtype and length), which must not be used
     * again: writing a whole buffer by swapping arrays instead of copying elements. Every tensor
     * viewing this storage sees the new contents, exactly as after an element copy.
     */
    public void adopt(Storage donor) {
        if (donor.dtype != dtype || donor.length != length) {
            throw new IllegalArgumentException("adopt: " + donor.dtype + "[" + donor.length + "] into " + dtype + "[" + length + "]");
        }
        data = donor.data;
    }

    public void bumpVersion() { version++; }

    /** Element i converted to double (bool as 0/1). Slow path: for printing and tests. */
    public double getDouble(int i) {
        return switch (dtype) {
            case FLOAT32 -> ((float[]) data)[i];
            case FLOAT64 -> ((double[]) data)[i];
            case INT64 -> ((long[]) data)[i];
            case BOOL -> ((boolean[]) data)[i] ? 1 : 0;
        };
    }

    public long getLong(int i) {
        return switch (dtype) {
            case FLOAT32 -> (long) ((float[]) data)[i];
            case FLOAT64 -> (long) ((double[]) data)[i];
            case INT64 -> ((long[]) data)[i];
            case BOOL -> ((boolean[]) data)[i] ? 1 : 0;
        };
    }

    public void setDouble(int i, double v) {
        switch (dtype) {
            case FLOAT32 -> ((float[]) data)[i] = (float) v;
            case FLOAT64 -> ((double[]) data)[i] = v;
            case INT64 -> ((long[]) data)[i] = (long) v;
            case BOOL -> ((boolean[]) data)[i] = v != 0;
        }
    }
}
