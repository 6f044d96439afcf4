package dev.kiln.backend.cpu;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.vector.FloatRows;
import dev.kiln.backend.cpu.vector.VectorSupport;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.ElementwiseSpec;
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
 * Unary, binary and ternary elementwise kernels, each computing what its op's
 * {@link ElementwiseSpec} says: floating-point math runs in double and is rounded once to the
 * result type, float32 rows go to the spec's {@link FloatRows} loop (Vector API) when it has one.
 */
final class ElementwiseKernels {
    private ElementwiseKernels() {}

    private static final FloatRows ROWS = VectorSupport.floatRows();

    /** Per-op scalar functions; a null long function means the op computes in floating point. */
    private record UnaryFns(DoubleUnaryOperator d, LongUnaryOperator l, FloatRows.Unary fast) {
        /** The op's spec resolved for its attributes and result type. */
        static UnaryFns of(ElementwiseSpec spec, Attrs a, DType out) {
            DType real = out == DType.FLOAT64 ? DType.FLOAT64 : DType.FLOAT32;
            return new UnaryFns(spec.unaryScalar(a, real), spec.unaryLong(a), out == DType.FLOAT32 ? spec.unaryRows(a) : null);
        }
    }

    private record BinaryFns(DoubleBinaryOperator d, LongBinaryOperator l, FloatRows.Binary fast) {}

    /** Comparison: the result is d(a, b) != 0 on the promoted operands. */
    private record CompareFns(DoubleBinaryOperator d, LongBinaryOperator l, FloatRows.Compare fast) {}

    /**
     * One kernel per elementwise op, each computing what the op's {@link ElementwiseSpec} says,
     * and for unary and binary ops its write-into twin ({@link CpuKernels#runInto}), registered
     * beside it by the same helper.
     */
    static void register(Map<Op, CpuKernel> k, Map<Op, IntoKernel> into) {
        for (Op op : Op.values()) {
            ElementwiseSpec spec = op.def().elementwise();
            if (spec == null) continue;
            switch (spec.form()) {
                case UNARY -> unary(k, into, op, spec);
                case BINARY -> binary(k, into, op, new BinaryFns(spec.binaryScalar(), spec.binaryLong(), spec.binaryRows()));
                case PREDICATE -> compare(k, op, new CompareFns(spec.binaryScalar(), spec.binaryLong(), spec.compareRows()));
                case CONVERSION -> { } // below: a conversion is a copy into the result type
            }
        }
        CpuKernel sign = k.get(Op.SIGN);
        k.put(Op.SIGN, (in, a, out) -> out.dtype() == DType.BOOL ? Copy.toContiguous(in[0], DType.BOOL) : sign.run(in, a, out));
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
        k.put(Op.WHERE, ElementwiseKernels::where);
    }

    // ---- unary ----------------------------------------------------------------------------

    private static void unary(Map<Op, CpuKernel> k, Map<Op, IntoKernel> into, Op op, ElementwiseSpec spec) {
        // an op without attributes resolves its spec once per result dtype, not on every call
        Map<DType, UnaryFns> fixed = new java.util.EnumMap<>(DType.class);
        if (op.def().attrSpecs().isEmpty()) for (DType t : DType.values()) fixed.put(t, UnaryFns.of(spec, Attrs.EMPTY, t));
        k.put(op, (in, a, out) -> unaryRun(in[0], out.dtype(), fns(fixed, spec, a, out.dtype()), null));
        into.put(op, (in, a, out, dest) -> unaryRun(in[0], out.dtype(), fns(fixed, spec, a, out.dtype()), dest) != null);
    }

    private static UnaryFns fns(Map<DType, UnaryFns> fixed, ElementwiseSpec spec, Attrs a, DType t) {
        UnaryFns f = fixed.get(t);
        return f != null ? f : UnaryFns.of(spec, a, t);
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

    private static void binary(Map<Op, CpuKernel> k, Map<Op, IntoKernel> into, Op op, BinaryFns fns) {
        k.put(op, (in, a, out) -> binaryRun(in[0], in[1], out, fns, null));
        into.put(op, (in, a, out, dest) -> binaryRun(in[0], in[1], out, fns, dest) != null);
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

    /** Comparisons and logical ops: the test on operands promoted to a common type (bool as 0/1 integers). */
    private static void compare(Map<Op, CpuKernel> k, Op op, CompareFns fns) {
        k.put(op, (in, a, out) -> {
            DType compute = ShapeRules.promote(in[0].dtype(), in[0].rank() == 0, in[1].dtype(), in[1].rank() == 0);
            if (compute == DType.BOOL) return boolCompareRun(in[0], in[1], out.concreteShape(), fns);
            Strided x = in[0].dtype() == compute ? in[0] : Copy.toContiguous(in[0], compute);
            Strided y = in[1].dtype() == compute ? in[1] : Copy.toContiguous(in[1], compute);
            return compareRun(x, y, compute, out.concreteShape(), fns);
        });
    }

    /** Two bool operands: the long test on 0/1 read straight from the bool arrays (no widening copies). */
    private static Strided boolCompareRun(Strided x, Strided y, int[] shape, CompareFns f) {
        Strided out = Strided.allocate(DType.BOOL, shape);
        boolean[] o = out.storage().bool(), xa = x.storage().bool(), ya = y.storage().bool();
        int[][] strides = {Shapes.broadcastStrides(x.shape(), x.strides(), shape), Shapes.broadcastStrides(y.shape(), y.strides(), shape)};
        StridedLoop.forEachRow(shape, strides, new int[] {x.offset(), y.offset()}, (oo, off, st, n) -> {
            for (int i = 0; i < n; i++) o[oo + i] = f.l.applyAsLong(xa[off[0] + i * st[0]] ? 1 : 0, ya[off[1] + i * st[1]] ? 1 : 0) != 0;
        });
        return out;
    }

    private static Strided compareRun(Strided x, Strided y, DType compute, int[] shape, CompareFns f) {
        Strided out = Strided.allocate(DType.BOOL, shape);
        boolean[] o = out.storage().bool();
        int[][] strides = {Shapes.broadcastStrides(x.shape(), x.strides(), shape), Shapes.broadcastStrides(y.shape(), y.strides(), shape)};
        int[] offs = {x.offset(), y.offset()};
        StridedLoop.forEachRow(shape, strides, offs, (oo, off, st, n) -> {
            switch (compute) {
                // float comparisons are exact, so the float rows agree with the double functions
                case FLOAT32 -> { float[] xa = x.storage().f32(), ya = y.storage().f32();
                    if (f.fast != null) ROWS.compare(f.fast, xa, off[0], st[0], ya, off[1], st[1], o, oo, n);
                    else for (int i = 0; i < n; i++) o[oo + i] = f.d.applyAsDouble(xa[off[0] + i * st[0]], ya[off[1] + i * st[1]]) != 0; }
                case FLOAT64 -> { double[] xa = x.storage().f64(), ya = y.storage().f64();
                    for (int i = 0; i < n; i++) o[oo + i] = f.d.applyAsDouble(xa[off[0] + i * st[0]], ya[off[1] + i * st[1]]) != 0; }
                case INT64 -> { long[] xa = x.storage().i64(), ya = y.storage().i64();
                    for (int i = 0; i < n; i++) o[oo + i] = f.l.applyAsLong(xa[off[0] + i * st[0]], ya[off[1] + i * st[1]]) != 0; }
                default -> throw new IllegalStateException(String.valueOf(compute));
            }
        });
        return out;
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
