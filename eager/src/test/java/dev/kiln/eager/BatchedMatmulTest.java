package dev.kiln.eager;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import org.junit.jupiter.api.Test;

/**
 * Batched matmul against float64 loops over its definition, on the paths the CPU kernel picks:
 * one GEMM per batch index spread over the pool (counts divisible by the threads, or many), in
 * order on the caller (a few, odd counts), with transposed and broadcast operands that do not
 * fold into one GEMM. Attention's [B, H, T, T] products (128 GEMMs of 128 x 32 x 128) included.
 */
class BatchedMatmulTest {
    /** out[t] = a[t] @ b[t], a [count, m, k] and b [count, k, n] read through their strides. */
    private static double[] reference(Tensor a, Tensor b, int count, int m, int k, int n) {
        double[] x = a.contiguous().toDoubleArray(), y = b.contiguous().toDoubleArray();
        double[] out = new double[count * m * n];
        for (int t = 0; t < count; t++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += x[(t * m + i) * k + p] * y[(t * k + p) * n + j];
                    out[(t * m + i) * n + j] = s;
                }
            }
        }
        return out;
    }

    private static void check(String what, Tensor got, double[] want) {
        double[] g = got.toDoubleArray();
        assertTrue(g.length == want.length, what + ": " + g.length + " elements, want " + want.length);
        for (int i = 0; i < g.length; i++) {
            int e = i;
            assertTrue(Math.abs(g[i] - want[i]) <= 1e-4 * (1 + Math.abs(want[i])), () -> what + " element " + e + ": " + g[e] + ", want " + want[e]);
        }
    }

    @Test
    void everyBatchIndexIsItsOwnProductWhateverTheCountAndLayout() {
        Kiln.manualSeed(21);
        int[][] sizes = {{1, 5, 7, 3}, {2, 33, 17, 40}, {3, 64, 48, 65}, {5, 9, 130, 11}, {6, 130, 16, 130}, {8, 200, 96, 150}, {128, 128, 32, 128}};
        for (int[] s : sizes) {
            int count = s[0], m = s[1], k = s[2], n = s[3];
            String at = "[" + count + "," + m + "," + k + "] @ [" + count + "," + k + "," + n + "]";
            Tensor a = Tensor.randn(count, m, k), b = Tensor.randn(count, k, n);
            check(at, a.matmul(b), reference(a, b, count, m, k, n));
            // b as the transpose of a contiguous [count, n, k] (q @ k^T), a as a transposed view
            Tensor bt = Tensor.randn(count, n, k).transpose(1, 2), aT = Tensor.randn(count, k, m).transpose(1, 2);
            check(at + " with b transposed", a.matmul(bt), reference(a, bt, count, m, k, n));
            check(at + " with a transposed", aT.matmul(b), reference(aT, b, count, m, k, n));
            // one b for every index, with a that cannot fold into one GEMM of count*m rows
            Tensor shared = Tensor.randn(k, n);
            check(at + " with b broadcast", aT.matmul(shared), reference(aT, shared.unsqueeze(0).expand(count, k, n), count, m, k, n));
        }
    }

    @Test
    void fourDimensionalBatchesKeepTheirShape() {
        Kiln.manualSeed(22);
        Tensor q = Tensor.randn(3, 4, 37, 8), k = Tensor.randn(3, 4, 29, 8);
        Tensor scores = q.matmul(k.transpose(-2, -1));
        assertArrayEquals(new int[] {3, 4, 37, 29}, scores.shape());
        check("[3,4,37,8] @ [3,4,8,29]", scores, reference(q.reshape(12, 37, 8), k.transpose(-2, -1).reshape(12, 8, 29), 12, 37, 8, 29));
    }
}
