package dev.kiln.backend.cpu;

import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.shape.Shapes;

/** Layout and dtype conversions: the one place strided data is copied element by element. */
public final class Copy {
    private Copy() {}

    /** A contiguous copy of {@code x} in {@code dtype} (a new buffer, always). */
    public static Strided toContiguous(Strided x, DType dtype) {
        Strided out = Strided.allocate(dtype, x.shape());
        copyInto(x, out);
        return out;
    }

    /** {@code x} itself when already contiguous with offset 0 and the right dtype, else a copy. */
    public static Strided contiguousOf(Strided x, DType dtype) {
        if (x.dtype() == dtype && x.isContiguous() && x.offset() == 0 && x.storage().length() == x.numel()) return x;
        return toContiguous(x, dtype);
    }

    /** Same as {@link #contiguousOf} but accepts a nonzero offset (callers that read with offset). */
    public static Strided denseOf(Strided x, DType dtype) {
        if (x.dtype() == dtype && x.isContiguous()) return x;
        return toContiguous(x, dtype);
    }

    /** Copies (and converts) src into dst; src is broadcast to dst's shape. */
    public static void copyInto(Strided src, Strided dst) {
        int[] shape = dst.shape();
        int[] ss = Shapes.broadcastStrides(src.shape(), src.strides(), shape);
        int[][] strides = {ss, dst.strides()};
        int[] offs = {src.offset(), dst.offset()};
        Object sa = src.storage().array(), da = dst.storage().array();
        DType st = src.dtype(), dt = dst.dtype();
        StridedLoop.Row row = (o, off, str, n) -> {
            int si = off[0], di = off[1], s0 = str[0], s1 = str[1];
            if (st == dt && s0 == 1 && s1 == 1) {
                System.arraycopy(sa, si, da, di, n);
                return;
            }
            convertRow(st, sa, si, s0, dt, da, di, s1, n);
        };
        // rows may run in parallel only when no row can write what another reads or writes
        if (sa == da || writesOneElementTwice(dst)) StridedLoop.forEachRowInOrder(shape, strides, offs, row);
        else StridedLoop.forEachRow(shape, strides, offs, row);
    }

    /** An expanded destination (stride 0 on a dim longer than 1) names one element more than once. */
    private static boolean writesOneElementTwice(Strided dst) {
        for (int d = 0; d < dst.rank(); d++) {
            if (dst.strides()[d] == 0 && dst.shape()[d] > 1) return true;
        }
        return false;
    }

    static void convertRow(DType st, Object sa, int si, int ss, DType dt, Object da, int di, int ds, int n) {
        switch (dt) {
            case FLOAT32 -> {
                float[] d = (float[]) da;
                switch (st) {
                    case FLOAT32 -> { float[] s = (float[]) sa; for (int i = 0; i < n; i++) d[di + i * ds] = s[si + i * ss]; }
                    case FLOAT64 -> { double[] s = (double[]) sa; for (int i = 0; i < n; i++) d[di + i * ds] = (float) s[si + i * ss]; }
                    case INT64 -> { long[] s = (long[]) sa; for (int i = 0; i < n; i++) d[di + i * ds] = s[si + i * ss]; }
                    case BOOL -> { boolean[] s = (boolean[]) sa; for (int i = 0; i < n; i++) d[di + i * ds] = s[si + i * ss] ? 1f : 0f; }
                }
            }
            case FLOAT64 -> {
                double[] d = (double[]) da;
                switch (st) {
                    case FLOAT32 -> { float[] s = (float[]) sa; for (int i = 0; i < n; i++) d[di + i * ds] = s[si + i * ss]; }
                    case FLOAT64 -> { double[] s = (double[]) sa; for (int i = 0; i < n; i++) d[di + i * ds] = s[si + i * ss]; }
                    case INT64 -> { long[] s = (long[]) sa; for (int i = 0; i < n; i++) d[di + i * ds] = s[si + i * ss]; }
                    case BOOL -> { boolean[] s = (boolean[]) sa; for (int i = 0; i < n; i++) d[di + i * ds] = s[si + i * ss] ? 1 : 0; }
                }
            }
            case INT64 -> {
                long[] d = (long[]) da;
                switch (st) {
                    // float -> int truncates toward zero like C casts and PyTorch; NaN and overflow
                    // follow Java's saturating conversion (PyTorch's result is undefined there)
                    case FLOAT32 -> { float[] s = (float[]) sa; for (int i = 0; i < n; i++) d[di + i * ds] = (long) s[si + i * ss]; }
                    case FLOAT64 -> { double[] s = (double[]) sa; for (int i = 0; i < n; i++) d[di + i * ds] = (long) s[si + i * ss]; }
                    case INT64 -> { long[] s = (long[]) sa; for (int i = 0; i < n; i++) d[di + i * ds] = s[si + i * ss]; }
                    case BOOL -> { boolean[] s = (boolean[]) sa; for (int i = 0; i < n; i++) d[di + i * ds] = s[si + i * ss] ? 1 : 0; }
                }
            }
            case BOOL -> {
                boolean[] d = (boolean[]) da;
                switch (st) {
                    case FLOAT32 -> { float[] s = (float[]) sa; for (int i = 0; i < n; i++) d[di + i * ds] = s[si + i * ss] != 0; }
                    case FLOAT64 -> { double[] s = (double[]) sa; for (int i = 0; i < n; i++) d[di + i * ds] = s[si + i * ss] != 0; }
                    case INT64 -> { long[] s = (long[]) sa; for (int i = 0; i < n; i++) d[di + i * ds] = s[si + i * ss] != 0; }
                    case BOOL -> { boolean[] s = (boolean[]) sa; for (int i = 0; i < n; i++) d[di + i * ds] = s[si + i * ss]; }
                }
            }
        }
    }

    /** Fills a contiguous buffer with one value (converted to its dtype). */
    public static void fill(Strided dst, double value) {
        Storage s = dst.storage();
        int[] shape = dst.shape();
        StridedLoop.forEachRow(shape, new int[][] {dst.strides()}, new int[] {dst.offset()}, (o, off, str, n) -> {
            int di = off[0], ds = str[0];
            switch (s.dtype()) {
                case FLOAT32 -> { float[] d = s.f32(); float v = (float) value; for (int i = 0; i < n; i++) d[di + i * ds] = v; }
                case FLOAT64 -> { double[] d = s.f64(); for (int i = 0; i < n; i++) d[di + i * ds] = value; }
                case INT64 -> { long[] d = s.i64(); long v = (long) value; for (int i = 0; i < n; i++) d[di + i * ds] = v; }
                case BOOL -> { boolean[] d = s.bool(); boolean v = value != 0; for (int i = 0; i < n; i++) d[di + i * ds] = v; }
            }
        });
    }
}
