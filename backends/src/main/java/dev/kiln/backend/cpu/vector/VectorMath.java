package dev.kiln.backend.cpu.vector;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp and tanh in float lanes from adds, multiplies, FMAs and bit operations only.
 *
 * <p>Why not {@code lanewise(EXP)}: compiled by C2 it calls Intel's SVML, but before that (in the
 * interpreter and C1) it runs a per-lane {@code Math.exp} fallback, and the two differ in the
 * last bit. An eager kernel's results then depend on how far the JIT has come, and the same
 * training run gives different bits from one JVM to the next. Every operation used here is
 * exactly rounded IEEE arithmetic wherever it runs, so the result is a function of the input
 * alone. Accuracy: exp within 1 ulp of the correctly rounded value, tanh within 2, measured over
 * 2^24 values from 1e-30 to the overflow edges (FloatRowsTest bounds random rows at 2 ulps;
 * SpecialValuesTest pins the subnormal results, the overflow edges, ±0, ±inf and NaN).
 */
final class VectorMath {
    private VectorMath() {}

    private static final VectorSpecies<Float> S = PanamaFloatRows.S;

    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split so that n * LN2_HI is exact for |n| < 2^10 (Cody and Waite's reduction). */
    private static final float LN2_HI = 0.693145751953125f;
    private static final float LN2_LO = 1.428606765330187045e-6f;
    /** 1.5 * 2^23: a float this size has ulp 1, so adding it rounds to an integer (ties to even). */
    private static final float ROUNDER = 12582912f;
    private static final int ROUNDER_BITS = Float.floatToRawIntBits(ROUNDER);

    /**
     * e^x: x = n ln2 + r with |r| <= ln2/2, e^r by a degree-6 minimax polynomial (Horner with
     * FMAs), scaled by 2^n in two halves so that the first product stays a normal number and
     * results in the subnormal range are rounded once. x is clamped to [-104, 89] first
     * (beyond it e^x is 0 or +inf in float); NaN stays NaN (max and min propagate it, as Math.max does).
     */
    static FloatVector exp(FloatVector x) {
        FloatVector c = x.max(-104f).min(89f);
        FloatVector t = c.fma(LOG2E, ROUNDER);
        FloatVector n = t.sub(ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), c);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector u = r.fma(1.98527617612853646278381e-4f, 1.39304355252534151077271e-3f);
        u = u.fma(r, FloatVector.broadcast(S, 8.33336077630519866943359e-3f));
        u = u.fma(r, FloatVector.broadcast(S, 4.16664853692054748535156e-2f));
        u = u.fma(r, FloatVector.broadcast(S, 1.66666671633720397949219e-1f));
        u = u.fma(r, FloatVector.broadcast(S, 0.5f));
        FloatVector p = r.mul(r).fma(u, r).add(1f);
        IntVector ni = (IntVector) t.reinterpretAsInts().sub(ROUNDER_BITS);
        IntVector n2 = ni.lanewise(VectorOperators.ASHR, 1), n1 = ni.sub(n2);
        FloatVector s1 = n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = n2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(s1).mul(s2);
    }

    /**
     * tanh: an odd polynomial below |x| = 0.625 (where 1 - 2/(e^2|x| + 1) would cancel), and
     * (1 - e^-2|x|) / (1 + e^-2|x|) with the sign of x above. Signed zeros and NaN pass through.
     */
    static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector z = x.mul(x);
        FloatVector p = z.fma(-5.70498872745e-3f, 2.06390887954e-2f);
        p = p.fma(z, FloatVector.broadcast(S, -5.37397155531e-2f));
        p = p.fma(z, FloatVector.broadcast(S, 1.33314422036e-1f));
        p = p.fma(z, FloatVector.broadcast(S, -3.33332819422e-1f));
        FloatVector small = p.mul(z).fma(x, x);
        FloatVector e = exp(a.mul(-2f));
        FloatVector large = FloatVector.broadcast(S, 1f).sub(e).div(e.add(1f));
        large = large.blend(large.neg(), x.compare(VectorOperators.LT, 0f));
        VectorMask<Float> useLarge = a.compare(VectorOperators.GE, 0.625f).or(a.test(VectorOperators.IS_NAN));
        // x itself for NaN, and for zeros, whose sign the polynomial's +0 product would lose
        VectorMask<Float> passThrough = x.test(VectorOperators.IS_NAN).or(x.compare(VectorOperators.EQ, 0f));
        return small.blend(large, useLarge).blend(x, passThrough);
    }
}
