package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.gemm.GemmProvider;

/**
 * Row-level helpers over float[] or double[] buffers. The dtype is resolved once per row (not
 * per element), so convolution code is written once for f32 and f64 without costing speed.
 */
final class RowOps {
    private RowOps() {}

    /** dst[d0 .. d0+n) = src[s0], src[s0+step], ... */
    static void copy(Object src, int s0, int step, Object dst, int d0, int n) {
        if (step == 1) {
            System.arraycopy(src, s0, dst, d0, n);
        } else if (src instanceof float[] s) {
            float[] d = (float[]) dst;
            for (int i = 0; i < n; i++) d[d0 + i] = s[s0 + i * step];
        } else {
            double[] s = (double[]) src, d = (double[]) dst;
            for (int i = 0; i < n; i++) d[d0 + i] = s[s0 + i * step];
        }
    }

    /** dst[d0], dst[d0+step], ... += src[s0 .. s0+n) */
    static void add(Object src, int s0, Object dst, int d0, int step, int n) {
        if (src instanceof float[] s) {
            float[] d = (float[]) dst;
            for (int i = 0; i < n; i++) d[d0 + i * step] += s[s0 + i];
        } else {
            double[] s = (double[]) src, d = (double[]) dst;
            for (int i = 0; i < n; i++) d[d0 + i * step] += s[s0 + i];
        }
    }

    /** dst[d0 .. d0+n) = value src[i] */
    static void fill(Object dst, int d0, int n, Object src, int i) {
        if (dst instanceof float[] d) java.util.Arrays.fill(d, d0, d0 + n, ((float[]) src)[i]);
        else java.util.Arrays.fill((double[]) dst, d0, d0 + n, ((double[]) src)[i]);
    }

    /** dst[d0 .. d0+n) = 0 */
    static void zero(Object dst, int d0, int n) {
        if (dst instanceof float[] d) java.util.Arrays.fill(d, d0, d0 + n, 0f);
        else java.util.Arrays.fill((double[]) dst, d0, d0 + n, 0.0);
    }

    /** dst[i] += src[i] over n elements. */
    static void accumulate(Object src, Object dst, int n) { add(src, 0, dst, 0, 1, n); }

    static Object allocate(Object like, int n) { return like instanceof float[] ? new float[n] : new double[n]; }

    /** C (+)= A @ B through the shared GEMM. */
    static void gemm(int m, int n, int k, Object a, int ao, int ars, int acs, Object b, int bo, int brs, int bcs,
                     Object c, int co, int ldc, boolean acc) {
        if (m == 0 || n == 0) return;
        if (a instanceof float[] af) {
            GemmProvider.get().sgemm(m, n, k, af, ao, ars, acs, (float[]) b, bo, brs, bcs, (float[]) c, co, ldc, acc);
        } else {
            GemmProvider.get().dgemm(m, n, k, (double[]) a, ao, ars, acs, (double[]) b, bo, brs, bcs, (double[]) c, co, ldc, acc);
        }
    }
}
