package dev.kiln.backend;

import dev.kiln.backend.shape.ShapeException;

/**
 * A flat, typed buffer that tensors view with (shape, strides, offset). The version counter is
 * bumped by every in-place write so that autograd can detect saved tensors that were modified
 * after being saved.
 *
 * <p>The contents live in a host array, or, for results computed on a GPU, only on the device
 * until the host asks for them: such a storage is created by {@link #onDevice} with its
 * {@link Residence}, and the first host access (any accessor below) copies the contents into a
 * new host array. A chain of device ops therefore never copies to the host. A device that
 * overwrites a storage's contents calls {@link #hostIsStale}; the next host access copies again.
 */
public final class Storage {
    /** Where the contents live when the host array is missing or stale: a device's copy. */
    public interface Residence {
        /** Fills {@code hostArray} (a new array of s's dtype and length) with s's contents. */
        void copyToHost(Storage s, Object hostArray);
    }

    private final DType dtype;
    /** The host array; null while only {@link #residence} holds the contents. */
    private volatile Object data;
    /** Guarded by this, as is {@link #deviceWrites}. */
    private Residence residence;
    /** Device writes so far: a copy to the host that overlapped one is stale and is redone. */
    private long deviceWrites;
    private final int length;
    private volatile int version;

    private Storage(DType dtype, Object data, Residence residence, int length) {
        this.dtype = dtype;
        this.data = data;
        this.residence = residence;
        this.length = length;
    }

    public static Storage allocate(DType dtype, long n) {
        return new Storage(dtype, newArray(dtype, checkedLength(dtype, n)), null, (int) n);
    }

    /** A storage whose contents are held by {@code residence} and copied to the host on first host access. */
    public static Storage onDevice(DType dtype, long n, Residence residence) {
        return new Storage(dtype, null, java.util.Objects.requireNonNull(residence, "residence"), checkedLength(dtype, n));
    }

    private static int checkedLength(DType dtype, long n) {
        if (n < 0 || n > Integer.MAX_VALUE - 16) throw new ShapeException("cannot allocate " + n + " elements of " + dtype);
        return (int) n;
    }

    private static Object newArray(DType dtype, int len) {
        return switch (dtype) {
            case FLOAT32 -> new float[len];
            case FLOAT64 -> new double[len];
            case INT64 -> new long[len];
            case BOOL -> new boolean[len];
        };
    }

    /** The host array, copied from the device first when only the device holds the contents. */
    private Object host() {
        Object d = data;
        return d != null ? d : copyFromDevice();
    }

    /**
     * Copies the device's contents into a new host array. The copy runs outside this storage's
     * lock, because the residence takes its own (a device's lock may be held by a thread that
     * is uploading this storage); if the device wrote again meanwhile, the copy is redone.
     */
    private Object copyFromDevice() {
        while (true) {
            Residence from;
            long writes;
            synchronized (this) {
                if (data != null) return data;
                from = residence;
                writes = deviceWrites;
            }
            Object a = newArray(dtype, length);
            from.copyToHost(this, a);
            synchronized (this) {
                if (data != null) return data;
                if (writes == deviceWrites) {
                    data = a;
                    return a;
                }
            }
        }
    }

    /** Whether the host array holds the current contents (false: the next host access copies them from the device). */
    public boolean isOnHost() { return data != null; }

    /**
     * The device {@code r} has written new contents: drops the host array, so the next host
     * access copies them back from {@code r}. The caller bumps the version as for any write.
     */
    public synchronized void hostIsStale(Residence r) {
        residence = java.util.Objects.requireNonNull(r, "residence");
        data = null;
        deviceWrites++;
    }

    public static Storage wrap(float[] a) { return new Storage(DType.FLOAT32, a, null, a.length); }

    public static Storage wrap(double[] a) { return new Storage(DType.FLOAT64, a, null, a.length); }

    public static Storage wrap(long[] a) { return new Storage(DType.INT64, a, null, a.length); }

    public static Storage wrap(boolean[] a) { return new Storage(DType.BOOL, a, null, a.length); }

    public DType dtype() { return dtype; }

    public int length() { return length; }

    public float[] f32() { return (float[]) host(); }

    public double[] f64() { return (double[]) host(); }

    public long[] i64() { return (long[]) host(); }

    public boolean[] bool() { return (boolean[]) host(); }

    public Object array() { return host(); }

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
        Object contents = donor.host(); // before taking this lock: it may copy from a device
        synchronized (this) {
            data = contents;
        }
    }

    public synchronized void bumpVersion() { version++; }

    /** Element i converted to double (bool as 0/1). Slow path: for printing and tests. */
    public double getDouble(int i) {
        Object a = host();
        return switch (dtype) {
            case FLOAT32 -> ((float[]) a)[i];
            case FLOAT64 -> ((double[]) a)[i];
            case INT64 -> ((long[]) a)[i];
            case BOOL -> ((boolean[]) a)[i] ? 1 : 0;
        };
    }

    public long getLong(int i) {
        Object a = host();
        return switch (dtype) {
            case FLOAT32 -> (long) ((float[]) a)[i];
            case FLOAT64 -> (long) ((double[]) a)[i];
            case INT64 -> ((long[]) a)[i];
            case BOOL -> ((boolean[]) a)[i] ? 1 : 0;
        };
    }

    public void setDouble(int i, double v) {
        Object a = host();
        switch (dtype) {
            case FLOAT32 -> ((float[]) a)[i] = (float) v;
            case FLOAT64 -> ((double[]) a)[i] = v;
            case INT64 -> ((long[]) a)[i] = (long) v;
            case BOOL -> ((boolean[]) a)[i] = v != 0;
        }
    }
}
