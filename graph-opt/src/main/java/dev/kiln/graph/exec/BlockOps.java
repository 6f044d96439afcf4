package dev.kiln.graph.exec;

import dev.kiln.backend.cpu.MathFns;
import dev.kiln.backend.cpu.vector.FloatRows;
import dev.kiln.backend.cpu.vector.VectorSupport;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/**
 * The float32 block functions fused loops call: one per elementwise op, with the eager
 * kernels' semantics. Ops that have a {@link FloatRows} row loop use it (the same code eager
 * runs, so results are bit-identical); the rest compute in double and round once, as the
 * eager kernels do. Operands are (array, offset, stride) with stride 1, or 0 for a broadcast
 * scalar.
 */
final class BlockOps {
    private BlockOps() {}

    static final FloatRows ROWS = VectorSupport.floatRows();

    static final Set<Op> UNARY = EnumSet.of(Op.NEG, Op.ABS, Op.SIGN, Op.EXP, Op.LOG, Op.LOG1P, Op.EXPM1, Op.SQRT, Op.RSQRT,
            Op.RECIPROCAL, Op.SIN, Op.COS, Op.TANH, Op.SIGMOID, Op.RELU, Op.GELU, Op.SILU, Op.ERF, Op.FLOOR, Op.CEIL, Op.ROUND,
            Op.CLAMP, Op.CAST);
    static final Set<Op> BINARY = EnumSet.of(Op.ADD, Op.SUB, Op.MUL, Op.DIV, Op.POW, Op.MAXIMUM, Op.MINIMUM);

    interface Unary {
        void apply(float[] x, int xo, int xs, float[] o, int oo, int n);
    }

    interface Binary {
        void apply(float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n);
    }

    static Unary unary(Op op, Attrs attrs, boolean exactMath) {
        FloatRows.Unary fast = switch (op) {
            case NEG -> FloatRows.Unary.NEG;
            case ABS -> FloatRows.Unary.ABS;
            case RELU -> FloatRows.Unary.RELU;
            case SQRT -> FloatRows.Unary.SQRT;
            case EXP -> FloatRows.Unary.EXP;
            case TANH -> FloatRows.Unary.TANH;
            case SIGMOID -> FloatRows.Unary.SIGMOID;
            default -> null;
        };
        if (fast != null) {
            return (x, xo, xs, o, oo, n) -> {
                if (xs == 1) {
                    ROWS.unary(fast, x, xo, o, oo, n);
                } else { // a broadcast scalar: compute once, fill the block
                    float[] t = {x[xo]};
                    ROWS.unary(fast, t, 0, t, 0, 1);
                    java.util.Arrays.fill(o, oo, oo + n, t[0]);
                }
            };
        }
        // float32 gelu is the same function in eager and fused code, so exact math changes nothing here
        if (op == Op.GELU && attrs.getString("approximate").equals("none")) return BlockOps::geluFast;
        DoubleUnaryOperator f = switch (op) {
            case SIGN -> MathFns::sign;
            case LOG -> Math::log;
            case LOG1P -> Math::log1p;
            case EXPM1 -> Math::expm1;
            case RSQRT -> x -> 1.0 / Math.sqrt(x);
            case RECIPROCAL -> x -> 1.0 / x;
            case SIN -> Math::sin;
            case COS -> Math::cos;
            case SILU -> MathFns::silu;
            case ERF -> MathFns::erf;
            case FLOOR -> Math::floor;
            case CEIL -> Math::ceil;
            case ROUND -> Math::rint;
            case GELU -> MathFns::geluTanh; // "none" returned above
            case CLAMP -> clamp(attrs);
            // the loader already converted the input to float32: a cast to f32 is a copy here
            case CAST -> x -> x;
            default -> throw new IllegalArgumentException(op.opName() + " is not a fusible unary op");
        };
        return (x, xo, xs, o, oo, n) -> perElement(x, xo, xs, o, oo, n, f);
    }

    private static DoubleUnaryOperator clamp(Attrs a) {
        Double lo = a.getOptionalFloat("min"), hi = a.getOptionalFloat("max");
        double l = lo == null ? Double.NEGATIVE_INFINITY : lo, h = hi == null ? Double.POSITIVE_INFINITY : hi;
        return x -> x != x ? x : Math.min(Math.max(x, l), h);
    }

    private static void perElement(float[] x, int xo, int xs, float[] o, int oo, int n, DoubleUnaryOperator f) {
        for (int i = 0; i < n; i++) o[oo + i] = (float) f.applyAsDouble(x[xo + i * xs]);
    }


    /** float32 gelu, the same function as the eager float32 kernel ({@link MathFns#geluFloat}). */
    static void geluFast(float[] x, int xo, int xs, float[] o, int oo, int n) {
        if (xs == 1) {
            ROWS.unary(FloatRows.Unary.GELU, x, xo, o, oo, n);
            return;
        }
        for (int i = 0; i < n; i++) o[oo + i] = (float) MathFns.geluFloat(x[xo + i * xs]);
    }

    static Binary binary(Op op) {
        FloatRows.Binary fast = switch (op) {
            case ADD -> FloatRows.Binary.ADD;
            case SUB -> FloatRows.Binary.SUB;
            case MUL -> FloatRows.Binary.MUL;
            case DIV -> FloatRows.Binary.DIV;
            case MAXIMUM -> FloatRows.Binary.MAX;
            case MINIMUM -> FloatRows.Binary.MIN;
            default -> null;
        };
        if (fast != null) return (a, ao, as, b, bo, bs, o, oo, n) -> ROWS.binary(fast, a, ao, as, b, bo, bs, o, oo, n);
        DoubleBinaryOperator f = switch (op) {
            case POW -> Math::pow;
            default -> throw new IllegalArgumentException(op.opName() + " is not a fusible binary op");
        };
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
