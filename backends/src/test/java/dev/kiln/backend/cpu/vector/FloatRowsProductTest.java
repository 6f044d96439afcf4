package dev.kiln.backend.cpu.vector;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link FloatRows#product}, the unpacked product of attention's tiles: the vector twin gives the
 * scalar twin's bits (the same fma chain per element) at sizes around its 8-row and
 * two-vector tiles (and empty ones), with A row-major and transposed, B rows of a wider stride,
 * offsets and accumulation; the Vector API GEMM's bits (k within its one block); both against a
 * float64 reference; and nothing outside C's m x n is written.
 */
class FloatRowsProductTest {
    private static final dev.kiln.backend.cpu.gemm.Gemm GEMM = VectorSupport.vectorized() ? new dev.kiln.backend.cpu.gemm.PanamaGemm(1) : null;

    @Test
    void theTwinsAgreeBitForBitAndMatchFloat64() {
        FloatRows vec = VectorSupport.floatRows(), scalar = new ScalarFloatRows();
        Random r = new Random(21);
        int[] ms = {0, 1, 7, 8, 9, 64, 65}, ns = {0, 1, 8, 15, 16, 17, 24, 31, 32, 33, 48, 80, 129}, ks = {0, 1, 5, 32, 64, 130};
        for (int m : ms) for (int n : ns) for (int k : ks) for (boolean transposedA : new boolean[] {false, true}) for (boolean acc : new boolean[] {false, true}) {
            int ars = transposedA ? 1 : k + 3, acs = transposedA ? m + 2 : 1, ao = 5, bo = 3, ldb = n + 7, co = 2, ldc = n + 4;
            float[] a = new float[ao + Math.max(Math.max(m - 1, 0) * ars + Math.max(k - 1, 0) * acs + 1, 1)], b = new float[bo + Math.max(k - 1, 0) * ldb + n];
            for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
            for (int i = 0; i < b.length; i++) b[i] = (float) r.nextGaussian();
            float[] c0 = new float[co + Math.max(m - 1, 0) * ldc + n + 3];
            for (int i = 0; i < c0.length; i++) c0[i] = (float) r.nextGaussian();
            float[] cv = c0.clone(), cs = c0.clone();
            vec.product(m, n, k, a, ao, ars, acs, b, bo, ldb, cv, co, ldc, acc);
            scalar.product(m, n, k, a, ao, ars, acs, b, bo, ldb, cs, co, ldc, acc);
            String at = m + "x" + n + "x" + k + (transposedA ? " A^T" : "") + (acc ? " accumulating" : "");
            assertArrayEquals(cs, cv, at + ": vector and scalar twins");
            if (VectorSupport.vectorized() && m > 0 && n > 0) { // the Vector API GEMM's bits: k fits its one k-block
                float[] cg = c0.clone();
                GEMM.sgemm(m, n, k, a, ao, ars, acs, b, bo, ldb, 1, cg, co, ldc, acc);
                assertArrayEquals(cg, cv, at + ": the GEMM's bits");
            }
            for (int i = 0; i < c0.length; i++) {
                int row = (i - co) / ldc, col = (i - co) % ldc;
                boolean inside = i >= co && row < m && col < n;
                if (!inside) {
                    assertEquals(c0[i], cv[i], at + ": element " + i + " outside C was written");
                    continue;
                }
                double sum = acc ? c0[i] : 0;
                for (int p = 0; p < k; p++) sum += (double) a[ao + row * ars + p * acs] * b[bo + p * ldb + col];
                double want = sum;
                int at2 = i;
                assertTrue(Math.abs(want - cv[i]) <= 1e-5 * (k + 1) * (1 + Math.abs(want)), () -> at + " element " + at2 + ": " + want + " vs " + cv[at2]);
            }
        }
    }
}
