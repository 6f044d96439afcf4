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
                for (int i = 0; i < n + 1; i++) {
                    // gelu_grad: float lanes against the double twin, relative to the size of its two
                    // terms (Phi(x) and x phi(x) cancel near x = -0.75, where the result is near 0)
                    float tol = 0f;
                    if (op == FloatRows.Binary.GELU_GRAD && i > 0 && Float.isFinite(y[i])) {
                        float gv = a[1 + (i - 1) * strides[0]], xv = b[1 + (i - 1) * strides[1]];
                        tol = 6e-7f * Math.abs(gv) * (1 + Math.abs(xv));
                    }
                    assertEquals(y[i], x[i], tol, op + " strides " + strides[0] + "," + strides[1] + " at " + i);
                }
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

    /**
     * gelu's gradient: within a few float ulps of the terms' size from the exact float64
     * gradient over [-10, 10], and the same bits for an element wherever its row starts and
     * whatever the operands' layout (eager rows and fused blocks cut rows in different places).
     */
    @org.junit.jupiter.api.Test
    void geluGradIsAccurateAndTheSameBitsAtAnyOffsetAndLayout() {
        int n = 4001;
        float[] g = new float[n], x = new float[n];
        Random r = new Random(3);
        for (int i = 0; i < n; i++) {
            x[i] = -10f + 20f * i / (n - 1);
            g[i] = (float) (r.nextGaussian() * 2);
        }
        for (FloatRows rows : new FloatRows[] {VectorSupport.floatRows(), SCALAR}) {
            float[] whole = new float[n];
            rows.binary(FloatRows.Binary.GELU_GRAD, g, 0, 1, x, 0, 1, whole, 0, n);
            for (int i = 0; i < n; i++) {
                double exact = dev.kiln.backend.cpu.MathFns.geluGrad(g[i], x[i]);
                assertEquals(exact, whole[i], 6e-7 * Math.abs(g[i]) * (1 + Math.abs(x[i])), rows.name() + " at x = " + x[i]);
            }
            for (int start : new int[] {1, 3, 15, 17, 1000}) {
                float[] part = new float[n - start];
                rows.binary(FloatRows.Binary.GELU_GRAD, g, start, 1, x, start, 1, part, 0, n - start);
                for (int i = start; i < n; i++) assertEquals(whole[i], part[i - start], 0f, rows.name() + " from " + start + " at " + i);
            }
            // out over a broadcast operand's own storage (a fused block's register reused): it is read once, before the first write
            float[] shared = new float[40];
            java.util.Arrays.fill(shared, 99f);
            shared[0] = g[7];
            rows.binary(FloatRows.Binary.GELU_GRAD, shared, 0, 0, x, 7, 1, shared, 0, 40);
            for (int i = 0; i < 40; i++) {
                float want = i == 0 ? whole[7] : 0;
                float[] one = new float[1];
                rows.binary(FloatRows.Binary.GELU_GRAD, g, 7, 0, x, 7 + i, 1, one, 0, 1);
                assertEquals(one[0], shared[i], 0f, rows.name() + " over its broadcast operand at " + i + (i == 0 ? " (" + want + ")" : ""));
            }
            // one element at a time through a broadcast operand: the same bits again
            for (int i = 0; i < n; i += 97) {
                float[] one = new float[3];
                rows.binary(FloatRows.Binary.GELU_GRAD, g, i, 0, new float[] {x[i], x[i], x[i]}, 0, 1, one, 0, 3);
                for (float v : one) assertEquals(whole[i], v, 0f, rows.name() + " broadcast at " + i);
            }
        }
    }

    /** softmax rows: a float64 reference within float rounding, sums of 1, and NaN rows where PyTorch has them. */
    @ParameterizedTest
    @ValueSource(ints = {1, 7, 15, 16, 17, 128, 129, 1000})
    void softmaxRowsMatchAFloat64ReferenceAndPropagateNaN(int n) {
        Random r = new Random(n);
        float[] x = new float[n + 2];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 4);
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int i = 1; i <= n; i++) max = Math.max(max, x[i]);
        for (int i = 1; i <= n; i++) sum += Math.exp(x[i] - max);
        for (FloatRows rows : new FloatRows[] {VectorSupport.floatRows(), SCALAR}) {
            float[] out = new float[n + 1];
            rows.softmax(x, 1, out, 1, n);
            for (int i = 1; i <= n; i++) {
                // float rounding of x - max (relative 6e-8 of |x - max|, magnified by exp) plus exp's few ulps
                double want = Math.exp(x[i] - max) / sum;
                assertEquals(want, out[i], want * 1.5e-7 * (4 + Math.abs(x[i] - max)) + 1e-12, rows.name() + " at " + i);
            }
            assertEquals(0f, out[0], 0f, rows.name() + " wrote before its row");
            float[] same = x.clone();
            rows.softmax(same, 1, same, 1, n); // in place
            for (int i = 1; i <= n; i++) assertEquals(out[i], same[i], 0f, rows.name() + " in place at " + i);
            float[] dead = new float[n];
            java.util.Arrays.fill(dead, Float.NEGATIVE_INFINITY);
            rows.softmax(dead, 0, dead, 0, n);
            for (float v : dead) assertEquals(Float.NaN, v, 0f, rows.name() + " row of -inf");
            float[] withNaN = x.clone();
            withNaN[1 + n / 2] = Float.NaN;
            rows.softmax(withNaN, 1, withNaN, 1, n);
            for (int i = 1; i <= n; i++) assertEquals(Float.NaN, withNaN[i], 0f, rows.name() + " row with a NaN at " + i);
        }
    }
}
