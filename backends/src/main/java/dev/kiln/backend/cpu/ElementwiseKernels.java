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
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.LongBinaryOperator;
import java.util.function.LongUnaryOperator;

/**
 * Unary, binary and ternary elementwise kernels. Floating-point math runs in double and is
 * rounded once to the result type; hot float32 rows go to {@link FloatRows} (Vector API).
 */
final class ElementwiseKernels {
    private ElementwiseKernels() {}

    private static final FloatRows ROWS = VectorSupport.floatRows();

    /** Per-op scalar functions; a null long function means the op computes in floating point. */
    private record UnaryFns(DoubleUnaryOperator d, LongUnaryOperator l, FloatRows.Unary fast) {}

    private record BinaryFns(DoubleBinaryOperator d, LongBinaryOperator l, FloatRows.Binary fast) {}

    /** Comparison: the result is d(a, b) != 0 on the promoted operands. */
    private record CompareFns(DoubleBinaryOperator d, LongBinaryOperator l, FloatRows.Compare fast) {}

    /** Kernels that can also write into a caller's buffer; see {@link CpuKernels#runInto}. */
    private static final Map<Op, IntoKernel> INTO = new java.util.EnumMap<>(Op.class);

    /** op's write-into kernel, registered beside its CpuKernel by the same helper; null if none. */
    static IntoKernel into(Op op) { return INTO.get(op); }

    static void register(Map<Op, CpuKernel> k) {
        unary(k, Op.NEG, x -> -x, x -> -x, FloatRows.Unary.NEG);
        unary(k, Op.ABS, Math::abs, Math::abs, FloatRows.Unary.ABS);
        unary(k, Op.SIGN, MathFns::sign, Long::signum, null);
        CpuKernel sign = k.get(Op.SIGN);
        k.put(Op.SIGN, (in, a, out) -> out.dtype() == DType.BOOL ? Copy.toContiguous(in[0], DType.BOOL) : sign.run(in, a, out));
        unary(k, Op.EXP, Math::exp, null, FloatRows.Unary.EXP);
        unary(k, Op.LOG, Math::log, null, null);
        unary(k, Op.LOG1P, Math::log1p, null, null);
        unary(k, Op.EXPM1, Math::expm1, null, null);
        unary(k, Op.SQRT, Math::sqrt, null, FloatRows.Unary.SQRT);
        unary(k, Op.RSQRT, x -> 1.0 / Math.sqrt(x), null, null);
        unary(k, Op.RECIPROCAL, x -> 1.0 / x, null, null);
        unary(k, Op.SIN, Math::sin, null, null);
        unary(k, Op.COS, Math::cos, null, null);
        unary(k, Op.TANH, Math::tanh, null, FloatRows.Unary.TANH);
        unary(k, Op.SIGMOID, MathFns::sigmoid, null, FloatRows.Unary.SIGMOID);
        unary(k, Op.RELU, x -> x > 0 || x != x ? x : 0.0, x -> Math.max(x, 0), FloatRows.Unary.RELU);
        unary(k, Op.SILU, MathFns::silu, null, null);
        unary(k, Op.ERF, MathFns::erf, null, null);
        unary(k, Op.FLOOR, Math::floor, x -> x, null);
        unary(k, Op.CEIL, Math::ceil, x -> x, null);
        unary(k, Op.ROUND, Math::rint, x -> x, null);
        k.put(Op.GELU, (in, a, out) -> {
            boolean tanh = a.getString("approximate").equals("tanh");
            // float32 results use the Chebyshev erfc form (below half a float ulp); float64 keeps the exact series
            DoubleUnaryOperator exact = out.dtype() == DType.FLOAT32 ? MathFns::geluFloat : MathFns::gelu;
            return unaryRun(in[0], out.dtype(), new UnaryFns(tanh ? MathFns::geluTanh : exact, null, tanh ? null : FloatRows.Unary.GELU), null);
        });
        k.put(Op.CLAMP, (in, a, out) -> {
            Double lo = a.getOptionalFloat("min"), hi = a.getOptionalFloat("max");
            double l = lo == null ? Double.NEGATIVE_INFINITY : lo, h = hi == null ? Double.POSITIVE_INFINITY : hi;
            long ll = lo == null ? Long.MIN_VALUE : (long) Math.ceil(l), hl = hi == null ? Long.MAX_VALUE : (long) Math.floor(h);
            // torch.clamp: min applied first, then max (so min > max gives max everywhere)
            return unaryRun(in[0], out.dtype(), new UnaryFns(x -> x != x ? x : Math.min(Math.max(x, l), h),
                    x -> Math.min(Math.max(x, ll), hl), null), null);
        });
        k.put(Op.LOGICAL_NOT, (in, a, out) -> {
            Strided x = Copy.toContiguous(in[0], DType.BOOL);
            boolean[] v = x.storage().bool();
            for (int i = 0; i < v.length; i++) v[i] = !v[i];
            return x;
        });
        k.put(Op.CAST, (in, a, out) -> Copy.toContiguous(in[0], a.getDType("dtype")));
        k.put(Op.CLONE, (in, a, out) -> Copy.toContiguous(in[0], in[0].dtype()));
        k.put(Op.FULL_LIKE, (in, a, out) -> {
            Strided r = Strided.allocate(out.dtype(), out.concreteShape());
            double v = a.getFloat("value");
            // a new buffer is already all zero bits (zerosLike: gradients of gather, pad, ...)
            if (Double.doubleToRawLongBits(v) != 0) Copy.fill(r, v);
            return r;
        });

        binary(k, Op.ADD, Double::sum, Long::sum, FloatRows.Binary.ADD);
        binary(k, Op.SUB, (x, y) -> x - y, (x, y) -> x - y, FloatRows.Binary.SUB);
        binary(k, Op.MUL, (x, y) -> x * y, (x, y) -> x * y, FloatRows.Binary.MUL);
        binary(k, Op.DIV, (x, y) -> x / y, null, FloatRows.Binary.DIV);
        binary(k, Op.POW, MathFns::pow, MathFns::powLong, null);
        binary(k, Op.MAXIMUM, MathFns::max, Math::max, FloatRows.Binary.MAX);
        binary(k, Op.MINIMUM, MathFns::min, Math::min, FloatRows.Binary.MIN);

        compare(k, Op.EQ, FloatRows.Compare.EQ, (x, y) -> x == y ? 1 : 0, (x, y) -> x == y ? 1 : 0);
        compare(k, Op.NE, FloatRows.Compare.NE, (x, y) -> x != y ? 1 : 0, (x, y) -> x != y ? 1 : 0);
        compare(k, Op.LT, FloatRows.Compare.LT, (x, y) -> x < y ? 1 : 0, (x, y) -> x < y ? 1 : 0);
        compare(k, Op.LE, FloatRows.Compare.LE, (x, y) -> x <= y ? 1 : 0, (x, y) -> x <= y ? 1 : 0);
        compare(k, Op.GT, FloatRows.Compare.GT, (x, y) -> x > y ? 1 : 0, (x, y) -> x > y ? 1 : 0);
        compare(k, Op.GE, FloatRows.Compare.GE, (x, y) -> x >= y ? 1 : 0, (x, y) -> x >= y ? 1 : 0);
        logical(k, Op.LOGICAL_AND, 0);
        logical(k, Op.LOGICAL_OR, 1);
        logical(k, Op.LOGICAL_XOR, 2);
        k.put(Op.WHERE, ElementwiseKernels::where);
    }

    // ---- unary ----------------------------------------------------------------------------

    private static void unary(Map<Op, CpuKernel> k, Op op, DoubleUnaryOperator d, LongUnaryOperator l, FloatRows.Unary fast) {
        UnaryFns fns = new UnaryFns(d, l, fast);
        k.put(op, (in, a, out) -> unaryRun(in[0], out.dtype(), fns, null));
        INTO.put(op, (in, a, out, dest) -> unaryRun(in[0], out.dtype(), fns, dest) != null);
    }

    /**
     * dest: null for a fresh result, else a contiguous buffer of the result's type and shape
     * that receives it (an in-place op); it may be the input itself. Returns null when dest
     * cannot take this result (the caller computes out of place).
     */
    private static Strided unaryRun(Strided x, DType outType, UnaryFns f, Strided dest) {
        // integer math only for integer results; everything else in floating point
        DType compute = outType == DType.INT64 && f.l != null ? DType.INT64 : outType;
        if (dest != null && (compute != outType || dest.dtype() != outType)) return null;
        Strided src = Copy.denseOf(x, compute);
        int n = src.numel();
        Strided out = dest != null ? dest : Strided.allocate(outType, x.shape());
        int so = src.offset(), oo = out.offset();
        switch (compute) {
            case FLOAT32 -> {
                float[] s = src.storage().f32(), o = out.storage().f32();
                if (f.fast != null) ElementSplit.run(n, (from, to) -> ROWS.unary(f.fast, s, so + from, o, oo + from, to - from));
                else for (int i = 0; i < n; i++) o[oo + i] = (float) f.d.applyAsDouble(s[so + i]);
            }
            case FLOAT64 -> {
                double[] s = src.storage().f64(), o = out.storage().f64();
                for (int i = 0; i < n; i++) o[oo + i] = f.d.applyAsDouble(s[so + i]);
            }
            case INT64 -> {
                long[] s = src.storage().i64(), o = out.storage().i64();
                for (int i = 0; i < n; i++) o[oo + i] = f.l.applyAsLong(s[so + i]);
            }
            default -> throw new IllegalStateException("unary op on " + compute);
        }
        return out;
    }

    // ---- binary ---------------------------------------------------------------------------

    private static void binary(Map<Op, CpuKernel> k, Op op, DoubleBinaryOperator d, LongBinaryOperator l, FloatRows.Binary fast) {
        BinaryFns fns = new BinaryFns(d, l, fast);
        k.put(op, (in, a, out) -> binaryRun(in[0], in[1], out, fns, null));
        INTO.put(op, (in, a, out, dest) -> binaryRun(in[0], in[1], out, fns, dest) != null);
    }

    /** dest as for {@link #unaryRun}: null, or the contiguous buffer an in-place op writes. */
    private static Strided binaryRun(Strided a, Strided b, TensorType outT, BinaryFns f, Strided dest) {
        DType outType = outT.dtype();
        // bool arithmetic (add = or, mul = and) runs on 0/1 integers and converts back
        DType compute = outType == DType.BOOL ? DType.INT64 : outType;
        if (compute == DType.INT64 && f.l == null) compute = DType.FLOAT32;
        if (dest != null && (compute != outType || dest.dtype() != outType)) return null;
        Strided x = a.dtype() == compute ? a : Copy.toContiguous(a, compute);
        Strided y = b.dtype() == compute ? b : Copy.toContiguous(b, compute);
        int[] shape = outT.concreteShape();
        Strided out = dest != null ? dest : Strided.allocate(compute, shape);
        int base = out.offset();
        if (compute == DType.FLOAT32 && f.fast != null && sameDense(x, shape) && sameDense(y, shape)) {
            // no broadcast and no strides: one row, no per-call stride tables or row-walk lambda
            // (this is most of the cost of a small op such as a 16-element add)
            float[] xa = x.storage().f32(), ya = y.storage().f32(), o = out.storage().f32();
            int xo = x.offset(), yo = y.offset();
            ElementSplit.run(out.numel(), (from, to) -> ROWS.binary(f.fast, xa, xo + from, 1, ya, yo + from, 1, o, base + from, to - from));
            return out;
        }
        int[][] strides = {Shapes.broadcastStrides(x.shape(), x.strides(), shape), Shapes.broadcastStrides(y.shape(), y.strides(), shape)};
        int[] offs = {x.offset(), y.offset()};
        switch (compute) {
            case FLOAT32 -> {
                float[] xa = x.storage().f32(), ya = y.storage().f32(), o = out.storage().f32();
                StridedLoop.forEachRow(shape, strides, offs, (oo, off, st, n) -> {
                    if (f.fast != null) {
                        ROWS.binary(f.fast, xa, off[0], st[0], ya, off[1], st[1], o, base + oo, n);
                    } else {
                        for (int i = 0; i < n; i++) o[base + oo + i] = (float) f.d.applyAsDouble(xa[off[0] + i * st[0]], ya[off[1] + i * st[1]]);
                    }
                });
            }
            case FLOAT64 -> {
                double[] xa = x.storage().f64(), ya = y.storage().f64(), o = out.storage().f64();
                StridedLoop.forEachRow(shape, strides, offs, (oo, off, st, n) -> {
                    for (int i = 0; i < n; i++) o[base + oo + i] = f.d.applyAsDouble(xa[off[0] + i * st[0]], ya[off[1] + i * st[1]]);
                });
            }
            case INT64 -> {
                long[] xa = x.storage().i64(), ya = y.storage().i64(), o = out.storage().i64();
                StridedLoop.forEachRow(shape, strides, offs, (oo, off, st, n) -> {
                    for (int i = 0; i < n; i++) o[base + oo + i] = f.l.applyAsLong(xa[off[0] + i * st[0]], ya[off[1] + i * st[1]]);
                });
            }
            default -> throw new IllegalStateException(String.valueOf(compute));
        }
        return compute == outType ? out : Copy.toContiguous(out, outType);
    }

    /** Contiguous (any offset) and exactly {@code shape}. */
    private static boolean sameDense(Strided s, int[] shape) {
        return java.util.Arrays.equals(s.shape(), shape) && s.isContiguous();
    }

    // ---- comparisons and logical ops ------------------------------------------------------

    private static void compare(Map<Op, CpuKernel> k, Op op, FloatRows.Compare fast, DoubleBinaryOperator d, LongBinaryOperator l) {
        CompareFns fns = new CompareFns(d, l, fast);
        k.put(op, (in, a, out) -> {
            DType compute = ShapeRules.promote(in[0].dtype(), in[0].rank() == 0, in[1].dtype(), in[1].rank() == 0);
            if (compute == DType.BOOL) compute = DType.INT64;
            Strided x = in[0].dtype() == compute ? in[0] : Copy.toContiguous(in[0], compute);
            Strided y = in[1].dtype() == compute ? in[1] : Copy.toContiguous(in[1], compute);
            return compareRun(x, y, compute, out.concreteShape(), fns);
        });
    }

    private static Strided compareRun(Strided x, Strided y, DType compute, int[] shape, CompareFns f) {
        Strided out = Strided.allocate(DType.BOOL, shape);
        boolean[] o = out.storage().bool();
        int[][] strides = {Shapes.broadcastStrides(x.shape(), x.strides(), shape), Shapes.broadcastStrides(y.shape(), y.strides(), shape)};
        int[] offs = {x.offset(), y.offset()};
        StridedLoop.forEachRow(shape, strides, offs, (oo, off, st, n) -> {
            switch (compute) {
                // float comparisons are exact, so the float rows agree with the double functions
                case FLOAT32 -> ROWS.compare(f.fast, x.storage().f32(), off[0], st[0], y.storage().f32(), off[1], st[1], o, oo, n);
                case FLOAT64 -> { double[] xa = x.storage().f64(), ya = y.storage().f64();
                    for (int i = 0; i < n; i++) o[oo + i] = f.d.applyAsDouble(xa[off[0] + i * st[0]], ya[off[1] + i * st[1]]) != 0; }
                case INT64 -> { long[] xa = x.storage().i64(), ya = y.storage().i64();
                    for (int i = 0; i < n; i++) o[oo + i] = f.l.applyAsLong(xa[off[0] + i * st[0]], ya[off[1] + i * st[1]]) != 0; }
                default -> throw new IllegalStateException(String.valueOf(compute));
            }
        });
        return out;
    }

    /** kind: 0 and, 1 or, 2 xor; operands are reduced to truthiness first. */
    private static void logical(Map<Op, CpuKernel> k, Op op, int kind) {
        k.put(op, (in, a, out) -> {
            Strided x = in[0].dtype() == DType.BOOL ? in[0] : Copy.toContiguous(in[0], DType.BOOL);
            Strided y = in[1].dtype() == DType.BOOL ? in[1] : Copy.toContiguous(in[1], DType.BOOL);
            int[] shape = out.concreteShape();
            Strided r = Strided.allocate(DType.BOOL, shape);
            boolean[] o = r.storage().bool(), xa = x.storage().bool(), ya = y.storage().bool();
            int[][] strides = {Shapes.broadcastStrides(x.shape(), x.strides(), shape), Shapes.broadcastStrides(y.shape(), y.strides(), shape)};
            StridedLoop.forEachRow(shape, strides, new int[] {x.offset(), y.offset()}, (oo, off, st, n) -> {
                for (int i = 0; i < n; i++) {
                    boolean p = xa[off[0] + i * st[0]], q = ya[off[1] + i * st[1]];
                    o[oo + i] = kind == 0 ? p && q : kind == 1 ? p || q : p ^ q;
                }
            });
            return r;
        });
    }

    private static Strided where(Strided[] in, Attrs a, TensorType outT) {
        DType t = outT.dtype();
        Strided c = in[0];
        Strided x = in[1].dtype() == t ? in[1] : Copy.toContiguous(in[1], t);
        Strided y = in[2].dtype() == t ? in[2] : Copy.toContiguous(in[2], t);
        int[] shape = outT.concreteShape();
        Strided out = Strided.allocate(t, shape);
        Object oa = out.storage().array(), xa = x.storage().array(), ya = y.storage().array();
        boolean[] ca = c.storage().bool();
        int[][] strides = {Shapes.broadcastStrides(c.shape(), c.strides(), shape),
                Shapes.broadcastStrides(x.shape(), x.strides(), shape), Shapes.broadcastStrides(y.shape(), y.strides(), shape)};
        int[] offs = {c.offset(), x.offset(), y.offset()};
        if (t == DType.FLOAT32) {
            float[] xf = (float[]) xa, yf = (float[]) ya, of = (float[]) oa;
            StridedLoop.forEachRow(shape, strides, offs, (oo, off, st, n) -> ROWS.select(ca, off[0], st[0], xf, off[1], st[1], yf, off[2], st[2], of, oo, n));
            return out;
        }
        StridedLoop.forEachRow(shape, strides, offs, (oo, off, st, n) -> {
            for (int i = 0; i < n; i++) {
                if (ca[off[0] + i * st[0]]) System.arraycopy(xa, off[1] + i * st[1], oa, oo + i, 1);
                else System.arraycopy(ya, off[2] + i * st[2], oa, oo + i, 1);
            }
        });
        return out;
    }

}
