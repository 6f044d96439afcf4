package dev.kiln.graph.exec;

import dev.kiln.backend.DType;
import dev.kiln.backend.cpu.vector.FloatRows;
import dev.kiln.backend.cpu.vector.VectorSupport;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.ElementwiseSpec;
import dev.kiln.backend.op.Op;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/**
 * The float32 block functions fused loops call, built from each op's {@link ElementwiseSpec}
 * exactly as the eager CPU kernels build theirs: the spec's {@link FloatRows} row loop when it
 * has one (the same code eager runs, so results are bit-identical), else its scalar function
 * rounded once to float. Operands are (array, offset, stride) with stride 1, or 0 for a
 * broadcast scalar.
 */
final class BlockOps {
    private BlockOps() {}

    static final FloatRows ROWS = VectorSupport.floatRows();

    interface Unary {
        void apply(float[] x, int xo, int xs, float[] o, int oo, int n);
    }

    interface Binary {
        void apply(float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n);
    }

    /** Whether op computes a float32 value from float32 operands element by element (what a fused group may hold). */
    static boolean fusible(Op op) {
        ElementwiseSpec spec = op.def().elementwise();
        return spec != null && (spec.isArithmetic() || spec.form() == ElementwiseSpec.Form.CONVERSION);
    }

    static Unary unary(Op op, Attrs attrs) {
        ElementwiseSpec spec = op.def().elementwise();
        if (spec.form() == ElementwiseSpec.Form.CONVERSION) {
            // the loader already converted the input to float32: a cast or clone is a copy here
            return (x, xo, xs, o, oo, n) -> {
                if (xs == 1) System.arraycopy(x, xo, o, oo, n);
                else java.util.Arrays.fill(o, oo, oo + n, x[xo]);
            };
        }
        FloatRows.Unary rows = spec.unaryRows(attrs);
        if (rows != null) {
            return (x, xo, xs, o, oo, n) -> {
                if (xs == 1) {
                    ROWS.unary(rows, x, xo, o, oo, n);
                } else { // a broadcast scalar: computed once by the same row loop, then filled
                    float[] t = {x[xo]};
                    ROWS.unary(rows, t, 0, t, 0, 1);
                    java.util.Arrays.fill(o, oo, oo + n, t[0]);
                }
            };
        }
        DoubleUnaryOperator f = spec.unaryScalar(attrs, DType.FLOAT32);
        return (x, xo, xs, o, oo, n) -> {
            for (int i = 0; i < n; i++) o[oo + i] = (float) f.applyAsDouble(x[xo + i * xs]);
        };
    }

    static Binary binary(Op op) {
        ElementwiseSpec spec = op.def().elementwise();
        FloatRows.Binary rows = spec.binaryRows();
        if (rows != null) return (a, ao, as, b, bo, bs, o, oo, n) -> ROWS.binary(rows, a, ao, as, b, bo, bs, o, oo, n);
        DoubleBinaryOperator f = spec.binaryScalar();
        return (a, ao, as, b, bo, bs, o, oo, n) -> {
            for (int i = 0; i < n; i++) o[oo + i] = (float) f.applyAsDouble(a[ao + i * as], b[bo + i * bs]);
        };
    }

    /** where(c, a, b) with c already loaded as 1/0 floats. */
    static void where(float[] c, int co, int cs, float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n) {
        // unit-stride shapes of the relu/clamp backward (a dense mask against a tensor and a 0-d
        // zero) get loops without index multiplies, which C2 compiles much tighter
        if (cs == 1 && as == 1 && bs == 0) {
            float bv = b[bo];
            for (int i = 0; i < n; i++) o[oo + i] = c[co + i] != 0 ? a[ao + i] : bv;
        } else if (cs == 1 && as == 0 && bs == 1) {
            float av = a[ao];
            for (int i = 0; i < n; i++) o[oo + i] = c[co + i] != 0 ? av : b[bo + i];
        } else if (cs == 1 && as == 1 && bs == 1) {
            for (int i = 0; i < n; i++) o[oo + i] = c[co + i] != 0 ? a[ao + i] : b[bo + i];
        } else {
            for (int i = 0; i < n; i++) o[oo + i] = c[co + i * cs] != 0 ? a[ao + i * as] : b[bo + i * bs];
        }
    }
}
