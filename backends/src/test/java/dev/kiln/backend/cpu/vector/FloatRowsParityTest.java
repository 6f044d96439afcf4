package dev.kiln.backend.cpu.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The Vector API rows agree with the scalar fallback on awkward sizes (tails, one vector, less than one). */
class FloatRowsParityTest {
    private static final FloatRows SCALAR = new ScalarFloatRows();

    private static float[] data(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n + 3];
        for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextGaussian() * 3);
        a[Math.min(2, n)] = Float.NaN;
        return a;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 15, 16, 17, 31, 33, 255, 1000, 4097})
    void binaryUnaryAndSumMatchTheScalarRows(int n) {
        assumeTrue(VectorSupport.vectorized(), "Vector API not in use: " + VectorSupport.reason());
        FloatRows vec = VectorSupport.floatRows();
        float[] a = data(n, n), b = data(n, 31L * n);
        for (FloatRows.Binary op : FloatRows.Binary.values()) {
            for (int[] strides : new int[][] {{1, 1}, {0, 1}, {1, 0}}) {
                float[] x = new float[n + 1], y = new float[n + 1];
                // offsets of 1 exercise unaligned starts
                vec.binary(op, a, 1, strides[0], b, 1, strides[1], x, 1, n);
                SCALAR.binary(op, a, 1, strides[0], b, 1, strides[1], y, 1, n);
                for (int i = 0; i < n + 1; i++) assertEquals(y[i], x[i], 0f, op + " strides " + strides[0] + "," + strides[1] + " at " + i);
            }
        }
        for (FloatRows.Unary op : FloatRows.Unary.values()) {
            float[] x = new float[n], y = new float[n];
            vec.unary(op, a, 1, x, 0, n);
            SCALAR.unary(op, a, 1, y, 0, n);
            for (int i = 0; i < n; i++) {
                boolean approx = op == FloatRows.Unary.EXP || op == FloatRows.Unary.TANH || op == FloatRows.Unary.SIGMOID || op == FloatRows.Unary.GELU
                        || op == FloatRows.Unary.ERF;
                // gelu: 8 ulps, its float-lane erfc fit against the double scalar twin (see FloatRowsTest)
                float tol = approx && Float.isFinite(y[i]) ? Math.ulp(y[i]) * (op == FloatRows.Unary.GELU ? 8 : op == FloatRows.Unary.ERF ? 4 : 2) : 0f;
                assertEquals(y[i], x[i], tol, op + " at " + i);
            }
        }
        float[] finite = data(n, 7L * n);
        finite[Math.min(2, n)] = 1f;
        double vs = vec.sum(finite, 1, n), ss = SCALAR.sum(finite, 1, n);
        double exact = 0;
        for (int i = 1; i <= n; i++) exact += finite[i];
        assertEquals(exact, vs, 1e-5 * Math.max(1, Math.abs(exact)) + 1e-4, "vector sum");
        assertEquals(exact, ss, 1e-5 * Math.max(1, Math.abs(exact)) + 1e-4, "scalar sum");
    }

    /** max/min: the exact extreme of each row, NaN wherever a NaN is in the row (the vector body or the scalar tail). */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 7, 15, 16, 17, 31, 33, 128, 255, 1000, 4097})
    void maxAndMinAreTheRowsExtremesWithNaNPropagating(int n) {
        FloatRows vec = VectorSupport.floatRows();
        float[] a = data(n, 5L * n + 1);
        java.util.Arrays.fill(a, Math.min(2, n), Math.min(2, n) + 1, 0f); // no NaN yet
        for (FloatRows rows : new FloatRows[] {vec, SCALAR}) {
            float hi = Float.NEGATIVE_INFINITY, lo = Float.POSITIVE_INFINITY;
            for (int i = 1; i <= n; i++) {
                hi = Math.max(hi, a[i]);
                lo = Math.min(lo, a[i]);
            }
            assertEquals(hi, rows.max(a, 1, n), 0f, rows.name() + " max");
            assertEquals(lo, rows.min(a, 1, n), 0f, rows.name() + " min");
            for (int at : new int[] {1, n / 2 + 1, n}) {
                if (n == 0) continue;
                float[] b = a.clone();
                b[at] = Float.NaN;
                assertEquals(Float.NaN, rows.max(b, 1, n), 0f, rows.name() + " max with NaN at " + at);
                assertEquals(Float.NaN, rows.min(b, 1, n), 0f, rows.name() + " min with NaN at " + at);
            }
            // the extreme in the last element (a scalar tail for most n) and just outside the row
            if (n > 0) {
                float[] c = a.clone();
                c[n] = 1e30f;
                c[n + 1] = 2e30f;
                assertEquals(1e30f, rows.max(c, 1, n), 0f, rows.name() + " max in the last element");
            }
        }
    }
}
