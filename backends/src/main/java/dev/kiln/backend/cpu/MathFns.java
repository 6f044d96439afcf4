package dev.kiln.backend.cpu;

/** Scalar special functions in double precision (the JDK has no erf). */
public final class MathFns {
    private MathFns() {}

    private static final double TWO_OVER_SQRT_PI = 1.1283791670955126;
    private static final double INV_SQRT_PI = 0.5641895835477563;
    private static final double INV_SQRT2 = 0.7071067811865476;
    private static final double INV_SQRT_2PI = 0.3989422804014327;
    private static final double SQRT_2_OVER_PI = 0.7978845608028654;

    /**
     * erf to about 1e-16 relative: a positive-term series (no cancellation) below 3 and the
     * continued fraction for erfc above, so float64 gradient checks see a smooth function.
     */
    public static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double ax = Math.abs(x);
        double r;
        if (ax < 3.0) {
            double x2 = ax * ax, term = ax, sum = ax;
            for (int n = 1; n < 200; n++) {
                term *= 2 * x2 / (2 * n + 1);
                sum += term;
                if (term < sum * 1e-17) break;
            }
            r = TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
        } else if (ax < 6.5) {
            r = 1.0 - erfcLarge(ax);
        } else {
            r = 1.0;
        }
        return Math.copySign(r, x); // erf is odd: erf(-0) = -0
    }

    /**
     * erf for float32 results, within about 1e-7 relative: a fixed 9-term Taylor polynomial
     * below 0.5 (no cancellation near 0) and 1 - erfc from the Chebyshev fit of
     * {@link #geluFloat} above. The series of {@link #erf} takes up to 60 iterations near 3;
     * float64 keeps it for gradient checks.
     */
    public static double erfFloat(double x) {
        if (Double.isNaN(x)) return x;
        double ax = Math.abs(x);
        double r;
        if (ax < 0.5) {
            double z = x * x; // coefficients (-1)^n / (n! (2n+1)) of the Maclaurin series
            r = TWO_OVER_SQRT_PI * x * (1 + z * (-1.0 / 3 + z * (1.0 / 10 + z * (-1.0 / 42 + z * (1.0 / 216 + z * (-1.0 / 1320
                    + z * (1.0 / 9360 + z * (-1.0 / 75600 + z * (1.0 / 685440)))))))));
            return r; // odd by construction, erf(-0) = -0
        }
        return Math.copySign(1.0 - erfcFit(ax), x);
    }

    /**
     * erfc(z) for z >= 0 by Numerical Recipes' Chebyshev fit, t exp(-z^2 + P(t)) with
     * t = 1/(1 + z/2) (fractional error below 1.2e-7): what erfFloat, geluFloat and
     * geluGradFloat share; PanamaFloatRows.erfcFit is P in float lanes.
     */
    static double erfcFit(double z) {
        double t = 1.0 / (1.0 + 0.5 * z);
        return t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
                + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
    }

    /** erfc(x) for x >= 3 by the Laplace continued fraction, evaluated backwards. */
    private static double erfcLarge(double x) {
        double f = x;
        for (int k = 120; k >= 1; k--) f = x + (k / 2.0) / f;
        return Math.exp(-x * x) * INV_SQRT_PI / f;
    }

    public static double sigmoid(double x) {
        if (x >= 0) return 1.0 / (1.0 + Math.exp(-x));
        double e = Math.exp(x);
        return e / (1.0 + e);
    }

    public static double gelu(double x) { return 0.5 * x * (1.0 + erf(x * INV_SQRT2)); }

    /**
     * gelu for float32 results: x * Phi(x) with erfc from Numerical Recipes' Chebyshev fit
     * (fractional error below 1.2e-7 everywhere, under float32's half-ulp, and the negative tail
     * keeps its relative accuracy). About 10x cheaper than the erf series of {@link #gelu}, which
     * float64 keeps for gradient checks. Eager kernels and fused graph loops share it, so both
     * give the same bits.
     */
    public static double geluFloat(double v) {
        double erfc = erfcFit(Math.abs(v) * INV_SQRT2);
        return v >= 0 ? v * (1.0 - 0.5 * erfc) : v * 0.5 * erfc;
    }

    /**
     * The gradient of gelu (erf form) at x times g: g * (Phi(x) + x * phi(x)). As PyTorch's
     * gelu_backward, infinite x gives NaN (x * phi(x) is inf * 0 there).
     */
    public static double geluGrad(double g, double x) {
        return g * (0.5 * (1.0 + erf(x * INV_SQRT2)) + x * Math.exp(-0.5 * x * x) * INV_SQRT_2PI);
    }

    /**
     * {@link #geluGrad} for float32 results, with Phi from the erfc fit of {@link #geluFloat}:
     * the scalar twin of the vector rows (FloatRows.Binary.GELU_GRAD).
     */
    public static double geluGradFloat(double g, double x) {
        double erfc = erfcFit(Math.abs(x) * INV_SQRT2);
        double cdf = x >= 0 ? 1.0 - 0.5 * erfc : 0.5 * erfc;
        return g * (cdf + x * Math.exp(-0.5 * x * x) * INV_SQRT_2PI);
    }

    public static double geluTanh(double x) {
        return 0.5 * x * (1.0 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
    }

    public static double silu(double x) { return x * sigmoid(x); }

    /** PyTorch's sign: (0 < x) - (x < 0), so +0 for ±0 and for NaN. */
    public static double sign(double x) {
        if (x > 0) return 1;
        if (x < 0) return -1;
        return 0.0;
    }

    /** PyTorch's relu: x < 0 ? 0 : x, so NaN and -0 pass through. */
    public static double relu(double x) { return x < 0 ? 0.0 : x; }

    /**
     * torch.clamp as std::min(std::max(x, lo), hi): the lower bound first (so lo > hi gives hi
     * everywhere), NaN x stays NaN, -0 stays -0 against a 0 bound, and a NaN bound gives NaN
     * (PyTorch's vectorized kernel, and what later PyTorch versions do everywhere).
     */
    public static double clamp(double x, double lo, double hi) {
        if (lo != lo || hi != hi) return Double.NaN;
        double m = x < lo ? lo : x;
        return hi < m ? hi : m;
    }

    public static long clamp(long x, long lo, long hi) {
        long m = Math.max(x, lo);
        return Math.min(m, hi);
    }

    /** C's pow (as PyTorch): pow(1, y) = 1 and pow(-1, +-inf) = 1 even for NaN y, where Java gives NaN. */
    public static double pow(double x, double y) {
        if (x == 1.0 || (x == -1.0 && Double.isInfinite(y))) return 1.0;
        return Math.pow(x, y);
    }

    /** NaN-propagating max, as torch.maximum. */
    public static double max(double a, double b) {
        if (a != a || b != b) return Double.NaN;
        return a >= b ? a : b;
    }

    public static double min(double a, double b) {
        if (a != a || b != b) return Double.NaN;
        return a <= b ? a : b;
    }

    /** Integer power with PyTorch's rules (negative exponents only for bases 1 and -1). */
    public static long powLong(long base, long exp) {
        if (exp < 0) {
            if (base == 1) return 1;
            if (base == -1) return (exp & 1) == 0 ? 1 : -1;
            throw new ArithmeticException("pow: integers to negative integer powers are not allowed (" + base + " ^ " + exp + ")");
        }
        long r = 1, b = base;
        long e = exp;
        while (e > 0) {
            if ((e & 1) != 0) r *= b;
            b *= b;
            e >>= 1;
        }
        return r;
    }
}
