package dev.kiln.backend.cpu.vector;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Vector API row loops; loaded only when jdk.incubator.vector is readable. */
final class PanamaFloatRows implements FloatRows {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ScalarFloatRows SCALAR = new ScalarFloatRows();

    @Override
    public void binary(Binary op, float[] a, int ao, int as, float[] b, int bo, int bs, float[] out, int oo, int n) {
        boolean aOk = as == 1 || as == 0, bOk = bs == 1 || bs == 0;
        if (!aOk || !bOk || op == Binary.MAX || op == Binary.MIN) {
            SCALAR.binary(op, a, ao, as, b, bo, bs, out, oo, n);
            return;
        }
        int L = S.length();
        int i = 0;
        int bound = S.loopBound(n);
        FloatVector av0 = as == 0 ? FloatVector.broadcast(S, a[ao]) : null;
        FloatVector bv0 = bs == 0 ? FloatVector.broadcast(S, b[bo]) : null;
        for (; i < bound; i += L) {
            FloatVector av = av0 != null ? av0 : FloatVector.fromArray(S, a, ao + i);
            FloatVector bv = bv0 != null ? bv0 : FloatVector.fromArray(S, b, bo + i);
            FloatVector r = switch (op) {
                case ADD -> av.add(bv);
                case SUB -> av.sub(bv);
                case MUL -> av.mul(bv);
                case DIV -> av.div(bv);
                default -> throw new AssertionError(op);
            };
            r.intoArray(out, oo + i);
        }
        if (i < n) SCALAR.binary(op, a, ao + i * as, as, b, bo + i * bs, bs, out, oo + i, n - i);
    }

    @Override
    public void compare(Compare op, float[] a, int ao, int as, float[] b, int bo, int bs, boolean[] out, int oo, int n) {
        if (!(as == 1 || as == 0) || !(bs == 1 || bs == 0)) {
            SCALAR.compare(op, a, ao, as, b, bo, bs, out, oo, n);
            return;
        }
        int L = S.length(), bound = S.loopBound(n), i = 0;
        FloatVector av0 = as == 0 ? FloatVector.broadcast(S, a[ao]) : null;
        FloatVector bv0 = bs == 0 ? FloatVector.broadcast(S, b[bo]) : null;
        for (; i < bound; i += L) {
            FloatVector av = av0 != null ? av0 : FloatVector.fromArray(S, a, ao + i);
            FloatVector bv = bv0 != null ? bv0 : FloatVector.fromArray(S, b, bo + i);
            // the operator must be a constant at each call site, or C2 does not intrinsify compare
            VectorMask<Float> m = switch (op) {
                case EQ -> av.compare(VectorOperators.EQ, bv);
                case NE -> av.compare(VectorOperators.NE, bv);
                case LT -> av.compare(VectorOperators.LT, bv);
                case LE -> av.compare(VectorOperators.LE, bv);
                case GT -> av.compare(VectorOperators.GT, bv);
                case GE -> av.compare(VectorOperators.GE, bv);
            };
            m.intoArray(out, oo + i);
        }
        if (i < n) SCALAR.compare(op, a, ao + i * as, as, b, bo + i * bs, bs, out, oo + i, n - i);
    }

    @Override
    public void select(boolean[] c, int co, int cs, float[] x, int xo, int xs, float[] y, int yo, int ys, float[] out, int oo, int n) {
        if (cs != 1 || !(xs == 1 || xs == 0) || !(ys == 1 || ys == 0)) {
            SCALAR.select(c, co, cs, x, xo, xs, y, yo, ys, out, oo, n);
            return;
        }
        int L = S.length(), bound = S.loopBound(n), i = 0;
        FloatVector xv0 = xs == 0 ? FloatVector.broadcast(S, x[xo]) : null;
        FloatVector yv0 = ys == 0 ? FloatVector.broadcast(S, y[yo]) : null;
        for (; i < bound; i += L) {
            FloatVector xv = xv0 != null ? xv0 : FloatVector.fromArray(S, x, xo + i);
            FloatVector yv = yv0 != null ? yv0 : FloatVector.fromArray(S, y, yo + i);
            yv.blend(xv, VectorMask.fromArray(S, c, co + i)).intoArray(out, oo + i);
        }
        if (i < n) SCALAR.select(c, co + i, cs, x, xo + i * xs, xs, y, yo + i * ys, ys, out, oo + i, n - i);
    }

    @Override
    public void unary(Unary op, float[] x, int xo, float[] out, int oo, int n) {
        if (op == Unary.SIGMOID || op == Unary.EXP || op == Unary.TANH) {
            // the Vector API's transcendental lanes are slower than Math on JDKs without
            // SVML stubs; keep the scalar path until a benchmark says otherwise
            SCALAR.unary(op, x, xo, out, oo, n);
            return;
        }
        int L = S.length();
        int bound = S.loopBound(n);
        int i = 0;
        FloatVector zero = FloatVector.zero(S);
        for (; i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            FloatVector r = switch (op) {
                case NEG -> v.neg();
                case ABS -> v.abs();
                // max(v, 0) would turn NaN into 0; blend keeps NaN like PyTorch's relu
                case RELU -> v.blend(zero, v.compare(VectorOperators.LE, 0f));
                case SQRT -> v.sqrt();
                default -> throw new AssertionError(op);
            };
            r.intoArray(out, oo + i);
        }
        if (i < n) SCALAR.unary(op, x, xo + i, out, oo + i, n - i);
    }

    @Override
    public double sum(float[] x, int off, int n) {
        int L = S.length();
        double total = 0;
        for (int start = 0; start < n; start += SUM_BLOCK) {
            int end = Math.min(n, start + SUM_BLOCK);
            FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
            int i = start;
            for (; i + 2 * L <= end; i += 2 * L) {
                a0 = a0.add(FloatVector.fromArray(S, x, off + i));
                a1 = a1.add(FloatVector.fromArray(S, x, off + i + L));
            }
            float s = a0.add(a1).reduceLanes(VectorOperators.ADD);
            for (; i < end; i++) s += x[off + i];
            total += s;
        }
        return total;
    }

    @Override
    public String name() { return "Vector API (" + S.vectorBitSize() + "-bit float lanes)"; }
}
