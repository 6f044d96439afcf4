package dev.kiln.backend.cpu.gemm;

import java.util.Arrays;

/** Argument checks and the degenerate cases (empty output or k == 0) shared by every Gemm. */
final class GemmArgs {
    private GemmArgs() {}

    static void checkShape(int m, int n, int k, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("negative gemm shape m=" + m + " n=" + n + " k=" + k);
        }
        if (m > 1 && ldc < n) {
            throw new IllegalArgumentException("ldc " + ldc + " < n " + n);
        }
    }

    /**
     * Handles calls with nothing to multiply. Returns true when the call is complete: an empty
     * output, or k == 0 where the product is zero (written only when overwriting).
     */
    static boolean trivial(int m, int n, int k, float[] c, int cOff, int ldc, boolean accumulate) {
        if (m == 0 || n == 0) return true;
        if (k != 0) return false;
        if (!accumulate) {
            for (int i = 0; i < m; i++) Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
        }
        return true;
    }

    static boolean trivial(int m, int n, int k, double[] c, int cOff, int ldc, boolean accumulate) {
        if (m == 0 || n == 0) return true;
        if (k != 0) return false;
        if (!accumulate) {
            for (int i = 0; i < m; i++) Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0d);
        }
        return true;
    }
}
