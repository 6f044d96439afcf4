package dev.kiln.backend.cpu;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.vector.FloatRows;
import dev.kiln.backend.cpu.vector.VectorSupport;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.op.ShapeRules;
import dev.kiln.backend.shape.Shapes;
import dev.kiln.backend.shape.TensorType;
import java.util.Map;

/**
 * Reductions. The reduced dims are moved last and made contiguous, so every output element
 * reduces one contiguous row; float32 sums go through the blocked {@link FloatRows#sum}.
 */
final class ReductionKernels {
    private ReductionKernels() {}

    private static final FloatRows ROWS = VectorSupport.floatRows();

    /** Rows of the input, reduced dims last: (data, rows, rowLength). */
    record Rows(Strided data, int count, int length) {}

    static void register(Map<Op, CpuKernel> k, Map<Op, IntoKernel> into) {
        k.put(Op.SUM, (in, a, out) -> reduce(in[0], a, out, 0));
        k.put(Op.PROD, (in, a, out) -> reduce(in[0], a, out, 1));
        k.put(Op.AMAX, (in, a, out) -> reduce(in[0], a, out, 2));
        k.put(Op.AMIN, (in, a, out) -> reduce(in[0], a, out, 3));
        k.put(Op.ALL, (in, a, out) -> reduce(in[0], a, out, 4));
        k.put(Op.ANY, (in, a, out) -> reduce(in[0], a, out, 5));
        k.put(Op.ARGMAX, (in, a, out) -> argReduce(in[0], a, out, true));
        k.put(Op.ARGMIN, (in, a, out) -> argReduce(in[0], a, out, false));
        k.put(Op.CUMSUM, ReductionKernels::cumsum);
        k.put(Op.SOFTMAX, (in, a, out) -> softmax(in[0], a, out, false));
        k.put(Op.LOG_SOFTMAX, (in, a, out) -> softmax(in[0], a, out, true));
        k.put(Op.SOFTMAX_BACKWARD, (in, a, out) -> softmaxBackward(in[0], in[1], a, out));
        // into a compiled plan's arena slot: the fast paths only (float32 rows along a contiguous last dim)
        into.put(Op.SOFTMAX, IntoKernel.when(ReductionKernels::alongLastDim, (in, a, out, dest) -> {
            Strided x = in[0];
            if (!softmaxRowsInPlace(x, a, out, "softmax") || x.storage() == dest.storage()) return false;
            int n = x.shape()[x.rank() - 1];
            softmaxRows(x.storage().f32(), x.offset(), dest.storage().f32(), dest.offset(), n == 0 ? 0 : x.numel() / n, n);
            return true;
        }));
        into.put(Op.SOFTMAX_BACKWARD, IntoKernel.when(ReductionKernels::alongLastDim, (in, a, out, dest) -> {
            Strided g = in[0], y = in[1];
            if (!softmaxRowsInPlace(y, a, out, "softmax_backward") || !g.isContiguous()
                    || g.storage() == dest.storage() || y.storage() == dest.storage()) return false;
            int n = y.shape()[y.rank() - 1];
            softmaxBackwardRows(g.storage().f32(), g.offset(), y.storage().f32(), y.offset(), dest.storage().f32(), dest.offset(), n == 0 ? 0 : y.numel() / n, n);
            return true;
        }));
    }

    /** Rows along the last dim of a result of rank >= 1: the only ones the row kernels write into a buffer. */
    private static boolean alongLastDim(Attrs a, TensorType out) {
        return out.rank() > 0 && Shapes.normDim("softmax", a.getInt("dim"), out.rank()) == out.rank() - 1;
    }

    /** Whether x's softmax rows (along attr dim) are float32, contiguous and along the last dim: read (and written) in place. */
    private static boolean softmaxRowsInPlace(Strided x, Attrs a, TensorType outT, String op) {
        if (x.rank() == 0) return false;
        int d = Shapes.normDim(op, a.getInt("dim"), x.rank());
        return outT.dtype() == DType.FLOAT32 && x.dtype() == DType.FLOAT32 && d == x.rank() - 1 && x.isContiguous();
    }

    /** softmax of rows contiguous rows of n at xo into out at oo, split over the pool. */
    private static void softmaxRows(float[] s, int xo, float[] o, int oo, int count, int n) {
        BatchSplit.run(count, 8L * n, (chunk, from, to) -> {
            for (int r = from; r < to; r++) ROWS.softmax(s, xo + r * n, o, oo + r * n, n);
        });
    }

    /** Permutes {@code dims} to the end and copies into a contiguous buffer of {@code t}. */
    static Rows rowsOf(Strided x, int[] dims, DType t) { return rowsOf(x, dims, t, false); }

    /** As above; {@code fresh} forces a new buffer that the caller may overwrite. */
    static Rows rowsOf(Strided x, int[] dims, DType t, boolean fresh) {
        int r = x.rank();
        boolean[] red = new boolean[r];
        for (int d : dims) red[d] = true;
        int[] perm = new int[r];
        int j = 0;
        for (int i = 0; i < r; i++) if (!red[i]) perm[j++] = i;
        int len = 1;
        for (int d : dims) {
            perm[j++] = d;
            len *= x.shape()[d];
        }
        Strided p = ViewKernels.permute(x, perm);
        Strided c = fresh ? Copy.toContiguous(p, t) : Copy.contiguousOf(p, t);
        int total = c.numel();
        return new Rows(c, len == 0 ? (total == 0 ? countKept(x.shape(), red) : 0) : total / len, len);
    }

    private static int countKept(int[] shape, boolean[] red) {
        int n = 1;
        for (int i = 0; i < shape.length; i++) if (!red[i]) n *= shape[i];
        return n;
    }

    /** kind: 0 sum, 1 prod, 2 max, 3 min, 4 all, 5 any. */
    private static Strided reduce(Strided x, Attrs a, TensorType outT, int kind) {
        int[] dims = ShapeRules.reductionDims("reduce", x.rank(), a.getInts("dims"));
        DType outType = outT.dtype();
        DType compute = kind >= 4 ? DType.BOOL : outType;
        if (kind == 0 && compute == DType.FLOAT32) {
            Strided fast = ColumnSums.trySum(x, dims, outT.concreteShape());
            if (fast != null) return fast;
        }
        Rows rows = rowsOf(x, dims, compute);
        Strided out = Strided.allocate(outType, outT.concreteShape());
        int n = rows.length;
        switch (compute) {
            case FLOAT32 -> {
                float[] s = rows.data.storage().f32(), o = out.storage().f32();
                // rows are independent, each reduced by the same code whatever chunk holds it
                BatchSplit.run(rows.count, n, (chunk, from, to) -> {
                    for (int r = from; r < to; r++) {
                        int off = r * n;
                        o[r] = switch (kind) {
                            case 0 -> (float) ROWS.sum(s, off, n);
                            case 1 -> { double p = 1; for (int i = 0; i < n; i++) p *= s[off + i]; yield (float) p; }
                            case 2 -> ROWS.max(s, off, n);
                            default -> ROWS.min(s, off, n);
                        };
                    }
                });
            }
            case FLOAT64 -> {
                double[] s = rows.data.storage().f64(), o = out.storage().f64();
                for (int r = 0; r < rows.count; r++) {
                    int off = r * n;
                    o[r] = switch (kind) {
                        case 0 -> sumPairwise(s, off, n);
                        case 1 -> { double p = 1; for (int i = 0; i < n; i++) p *= s[off + i]; yield p; }
                        case 2 -> { double m = Double.NEGATIVE_INFINITY; for (int i = 0; i < n; i++) m = MathFns.max(m, s[off + i]); yield m; }
                        default -> { double m = Double.POSITIVE_INFINITY; for (int i = 0; i < n; i++) m = MathFns.min(m, s[off + i]); yield m; }
                    };
                }
            }
            case INT64 -> {
                long[] s = rows.data.storage().i64(), o = out.storage().i64();
                for (int r = 0; r < rows.count; r++) {
                    int off = r * n;
                    long acc = kind == 0 ? 0 : kind == 1 ? 1 : kind == 2 ? Long.MIN_VALUE : Long.MAX_VALUE;
                    for (int i = 0; i < n; i++) {
                        long v = s[off + i];
                        acc = switch (kind) { case 0 -> acc + v; case 1 -> acc * v; case 2 -> Math.max(acc, v); default -> Math.min(acc, v); };
                    }
                    o[r] = acc;
                }
            }
            case BOOL -> {
                boolean[] s = rows.data.storage().bool(), o = out.storage().bool();
                for (int r = 0; r < rows.count; r++) {
                    int off = r * n;
                    // all / amin: true unless some element is false; any / amax: false unless some is true
                    boolean conj = kind == 4 || kind == 3 || kind == 1;
                    boolean acc = conj;
                    for (int i = 0; i < n && acc == conj; i++) acc = s[off + i];
                    o[r] = acc;
                }
            }
        }
        return out;
    }

    /** Pairwise float64 summation: error O(log n) ulps, independent of threads. */
    static double sumPairwise(double[] s, int off, int n) {
        if (n <= 64) {
            double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            int i = 0;
            for (; i + 3 < n; i += 4) {
                a0 += s[off + i];
                a1 += s[off + i + 1];
                a2 += s[off + i + 2];
                a3 += s[off + i + 3];
            }
            for (; i < n; i++) a0 += s[off + i];
            return (a0 + a1) + (a2 + a3);
        }
        int h = n / 2;
        return sumPairwise(s, off, h) + sumPairwise(s, off + h, n - h);
    }

    private static Strided argReduce(Strided x, Attrs a, TensorType outT, boolean max) {
        Integer dim = a.getOptionalInt("dim");
        Rows rows;
        if (dim == null || x.rank() == 0) {
            Strided flat = Copy.contiguousOf(x, DType.FLOAT64);
            rows = new Rows(flat, 1, flat.numel());
        } else {
            rows = rowsOf(x, new int[] {Shapes.normDim("argmax", dim, x.rank())}, DType.FLOAT64);
        }
        Strided out = Strided.allocate(DType.INT64, outT.concreteShape());
        double[] s = rows.data.storage().f64();
        long[] o = out.storage().i64();
        int n = rows.length;
        for (int r = 0; r < rows.count; r++) {
            int off = r * n, best = 0;
            double bv = s[off];
            for (int i = 1; i < n && bv == bv; i++) {
                double v = s[off + i];
                if (v != v || (max ? v > bv : v < bv)) {
                    best = i;
                    bv = v;
                }
            }
            o[r] = best;
        }
        return out;
    }

    private static Strided cumsum(Strided[] in, Attrs a, TensorType outT) {
        Strided x = in[0];
        if (x.rank() == 0) return Copy.toContiguous(x, outT.dtype());
        int d = Shapes.normDim("cumsum", a.getInt("dim"), x.rank());
        DType t = outT.dtype();
        Rows rows = rowsOf(x, new int[] {d}, t, true);
        Strided data = rows.data;
        int n = rows.length;
        for (int r = 0; r < rows.count; r++) {
            int off = r * n;
            switch (t) {
                case FLOAT32 -> { float[] s = data.storage().f32(); double acc = 0; for (int i = 0; i < n; i++) { acc += s[off + i]; s[off + i] = (float) acc; } }
                case FLOAT64 -> { double[] s = data.storage().f64(); double acc = 0; for (int i = 0; i < n; i++) { acc += s[off + i]; s[off + i] = acc; } }
                case INT64 -> { long[] s = data.storage().i64(); long acc = 0; for (int i = 0; i < n; i++) { acc += s[off + i]; s[off + i] = acc; } }
                default -> throw new IllegalStateException("cumsum on " + t);
            }
        }
        return backFromLast(data, x.shape(), d);
    }

    /** A contiguous buffer laid out with dim d last, viewed back in the original dim order. */
    static Strided backFromLast(Strided data, int[] shape, int d) {
        int r = shape.length;
        int[] permShape = new int[r];
        int j = 0;
        for (int i = 0; i < r; i++) if (i != d) permShape[j++] = shape[i];
        permShape[r - 1] = shape[d];
        int[] ps = Shapes.contiguousStrides(permShape);
        int[] strides = new int[r];
        j = 0;
        for (int i = 0; i < r; i++) if (i != d) strides[i] = ps[j++];
        strides[d] = ps[r - 1];
        return new Strided(data.storage(), shape.clone(), strides, 0);
    }

    /**
     * One float32 row of log_softmax in place, in vector rows: subtract the max, exp into
     * {@code scratch}, sum (FloatRows.sum's fixed order), subtract the sum's log. An all -inf row
     * keeps NaN-free exp(-inf - 0) = 0, like PyTorch. (softmax is {@link FloatRows#softmax}.)
     */
    private static void logSoftmaxRow(float[] s, int off, int n, float[] scratch, float[] m) {
        float max = ROWS.max(s, off, n);
        m[0] = max == Float.NEGATIVE_INFINITY ? 0f : max;
        ROWS.binary(FloatRows.Binary.SUB, s, off, 1, m, 0, 0, s, off, n);
        ROWS.unary(FloatRows.Unary.EXP, s, off, scratch, 0, n);
        m[0] = (float) Math.log(ROWS.sum(scratch, 0, n));
        ROWS.binary(FloatRows.Binary.SUB, s, off, 1, m, 0, 0, s, off, n);
    }

    /**
     * softmax_backward(g, y) = y * (g - dot(g, y)) for each row along dim: per row, the dot in
     * vector lanes by blocks ({@link FloatRows#dot}), then the subtraction and the product while the
     * row is in L1. Contiguous last-dim float32 rows are read in place; others are copied into
     * rows first (g into the buffer the result is written over).
     */
    private static Strided softmaxBackward(Strided g, Strided y, Attrs a, TensorType outT) {
        DType t = outT.dtype();
        int d = Shapes.normDim("softmax_backward", a.getInt("dim"), y.rank());
        if (y.rank() == 0) { // one row of one element: y * (g - g * y), as PyTorch's formula (0 for softmax's own output, 1)
            Strided r = Strided.allocate(t, new int[0]);
            if (t == DType.FLOAT32) {
                float gv = g.storage().f32()[g.offset()], yv = y.storage().f32()[y.offset()];
                r.storage().f32()[0] = yv * (gv - gv * yv);
            } else {
                double gv = g.storage().f64()[g.offset()], yv = y.storage().f64()[y.offset()];
                r.storage().f64()[0] = yv * (gv - gv * yv);
            }
            return r;
        }
        int n = y.shape()[d];
        if (t == DType.FLOAT32 && d == y.rank() - 1 && g.isContiguous() && y.isContiguous()) {
            Strided out = Strided.allocate(t, y.shape());
            softmaxBackwardRows(g.storage().f32(), g.offset(), y.storage().f32(), y.offset(), out.storage().f32(), 0, n == 0 ? 0 : y.numel() / n, n);
            return out;
        }
        Rows gr = rowsOf(g, new int[] {d}, t, true), yr = rowsOf(y, new int[] {d}, t);
        if (t == DType.FLOAT32) {
            float[] gs = gr.data.storage().f32();
            softmaxBackwardRows(gs, 0, yr.data.storage().f32(), 0, gs, 0, gr.count, n);
        } else {
            double[] gs = gr.data.storage().f64(), ys = yr.data.storage().f64();
            for (int r = 0; r < gr.count; r++) softmaxBackwardRow(gs, r * n, ys, r * n, gs, r * n, n);
        }
        return backFromLast(gr.data, y.shape(), d);
    }

    /** rows contiguous rows of n: out = y * (g - dot(g, y)) per row; out may be g's storage at go. */
    private static void softmaxBackwardRows(float[] g, int go, float[] y, int yo, float[] out, int oo, int rows, int n) {
        BatchSplit.run(rows, 8L * n, (chunk, from, to) -> {
            float[] dot = new float[1];
            for (int r = from; r < to; r++) softmaxBackwardRow(g, go + r * n, y, yo + r * n, out, oo + r * n, n, dot);
        });
    }

    /**
     * One row of softmax's gradient, out = y * (g - dot(g, y)) (also the attention's dS from P
     * and dP): the dot in vector lanes by blocks, then the subtraction and the product while the
     * row is in L1. out may be g (not y); dot is a one-element scratch.
     */
    static void softmaxBackwardRow(float[] g, int gr, float[] y, int yr, float[] out, int or, int n, float[] dot) {
        dot[0] = (float) ROWS.dot(g, gr, y, yr, n);
        ROWS.binary(FloatRows.Binary.SUB, g, gr, 1, dot, 0, 0, out, or, n);
        ROWS.binary(FloatRows.Binary.MUL, out, or, 1, y, yr, 1, out, or, n);
    }

    /** The float64 row: out = y * (g - dot(g, y)), the dot summed in order; out may be g (not y). */
    static void softmaxBackwardRow(double[] g, int gr, double[] y, int yr, double[] out, int or, int n) {
        double dot = 0;
        for (int i = 0; i < n; i++) dot += g[gr + i] * y[yr + i];
        for (int i = 0; i < n; i++) out[or + i] = y[yr + i] * (g[gr + i] - dot);
    }

    private static Strided softmax(Strided x, Attrs a, TensorType outT, boolean log) {
        DType t = outT.dtype();
        if (x.rank() == 0) {
            Strided r = Strided.allocate(t, new int[0]);
            Copy.fill(r, log ? 0.0 : 1.0);
            return r;
        }
        int d = Shapes.normDim(log ? "log_softmax" : "softmax", a.getInt("dim"), x.rank());
        if (!log && softmaxRowsInPlace(x, a, outT, "softmax")) {
            // rows already contiguous: read them in place, no copy first
            int n = x.shape()[d];
            Strided out = Strided.allocate(t, x.shape());
            softmaxRows(x.storage().f32(), x.offset(), out.storage().f32(), 0, n == 0 ? 0 : x.numel() / n, n);
            return out;
        }
        Rows rows = rowsOf(x, new int[] {d}, t, true);
        Strided data = rows.data;
        int n = rows.length;
        if (t == DType.FLOAT32) {
            // rows are independent: split them (each row's result depends on its row alone)
            float[] s = data.storage().f32();
            BatchSplit.run(rows.count, 8L * n, (chunk, from, to) -> {
                float[] scratch = log ? new float[n] : null, m = new float[1];
                for (int r = from; r < to; r++) {
                    if (log) logSoftmaxRow(s, r * n, n, scratch, m);
                    else ROWS.softmax(s, r * n, s, r * n, n);
                }
            });
        } else {
            double[] s = data.storage().f64();
            for (int r = 0; r < rows.count; r++) softmaxRow(s, r * n, n, log);
        }
        return backFromLast(data, x.shape(), d);
    }

    /** A float64 row's softmax (or log_softmax) in place: exp(x - max) / sum; a row of -inf is NaN, as PyTorch's. */
    static void softmaxRow(double[] s, int off, int n, boolean log) {
        double m = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) m = Math.max(m, s[off + i]);
        if (m == Double.NEGATIVE_INFINITY) m = 0;
        double z = 0;
        for (int i = 0; i < n; i++) z += Math.exp(s[off + i] - m);
        double lz = Math.log(z);
        for (int i = 0; i < n; i++) {
            double v = s[off + i] - m;
            s[off + i] = log ? v - lz : Math.exp(v) / z;
        }
    }
}
