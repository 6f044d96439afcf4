package dev.kiln.backend.shape;

import java.util.Arrays;

/** Shape arithmetic shared by shape rules, kernels and tensors. */
public final class Shapes {
    private Shapes() {}

    public static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) n = Math.multiplyExact(n, (long) d);
        return n;
    }

    public static int numelInt(int[] shape) {
        long n = numel(shape);
        if (n > Integer.MAX_VALUE - 16) {
            throw new ShapeException("tensor of shape " + Arrays.toString(shape) + " has " + n + " elements, more than a Java array holds");
        }
        return (int) n;
    }

    public static int[] contiguousStrides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= Math.max(shape[i], 1);
        }
        return s;
    }

    public static boolean isContiguous(int[] shape, int[] strides) {
        int expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] == 1) continue;
            if (strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    /** Normalizes a possibly negative dim index, naming the op when out of range. */
    public static int normDim(String op, int dim, int rank) {
        int r = Math.max(rank, 1);
        if (dim < -r || dim >= r) {
            throw new ShapeException(op + ": dim " + dim + " is out of range for a tensor of rank " + rank
                    + " (expected " + (-r) + " to " + (r - 1) + ")");
        }
        return dim < 0 ? dim + r : dim;
    }

    /** NumPy broadcasting of concrete shapes. */
    public static int[] broadcast(String op, int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
            int db = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
            if (da == db || db == 1) out[i] = da;
            else if (da == 1) out[i] = db;
            else throw new ShapeException(op + ": shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                    + " cannot be broadcast (dim " + i + ": " + da + " vs " + db + ")");
        }
        return out;
    }

    /** NumPy broadcasting over symbolic dims: a symbol matches itself or 1. */
    public static Dim[] broadcast(String op, Dim[] a, Dim[] b) {
        // the common case (same shapes) needs no per-dim walk; callers copy what they keep
        if (Arrays.equals(a, b)) return a;
        int r = Math.max(a.length, b.length);
        Dim[] out = new Dim[r];
        Dim one = Dim.of(1);
        for (int i = 0; i < r; i++) {
            Dim da = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : one;
            Dim db = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : one;
            if (da.equals(db) || db.equals(one)) out[i] = da;
            else if (da.equals(one)) out[i] = db;
            else throw new ShapeException(op + ": shapes " + toString(a) + " and " + toString(b)
                    + " cannot be broadcast (dim " + i + ": " + da + " vs " + db + ")");
        }
        return out;
    }

    /** Strides of {@code shape}/{@code strides} viewed as broadcast to {@code target} (0 on broadcast dims). */
    public static int[] broadcastStrides(int[] shape, int[] strides, int[] target) {
        int[] out = new int[target.length];
        int off = target.length - shape.length;
        for (int i = 0; i < shape.length; i++) {
            out[i + off] = shape[i] == 1 && target[i + off] != 1 ? 0 : strides[i];
        }
        return out;
    }

    public static String toString(int[] shape) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) sb.append(',');
            sb.append(shape[i]);
        }
        return sb.append(']').toString();
    }

    public static String toString(Dim[] shape) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) sb.append(',');
            sb.append(shape[i]);
        }
        return sb.append(']').toString();
    }

    public static Dim product(Dim[] dims, int from, int to) {
        Dim p = Dim.of(1);
        for (int i = from; i < to; i++) p = p.times(dims[i]);
        return p;
    }
}
