package dev.kiln.backend.cpu.gemm;

/** Placeholder until the packed kernels land: a plain triple loop. */
public final class GemmProvider {
    private GemmProvider() {}

    private static final Gemm NAIVE = new Gemm() {
        @Override
        public void sgemm(int m, int n, int k, float[] a, int ao, int ars, int acs, float[] b, int bo, int brs, int bcs, float[] c, int co, int ldc, boolean acc) {
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
                float s = 0;
                for (int p = 0; p < k; p++) s += a[ao + i * ars + p * acs] * b[bo + p * brs + j * bcs];
                c[co + i * ldc + j] = acc ? c[co + i * ldc + j] + s : s;
            }
        }

        @Override
        public void dgemm(int m, int n, int k, double[] a, int ao, int ars, int acs, double[] b, int bo, int brs, int bcs, double[] c, int co, int ldc, boolean acc) {
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += a[ao + i * ars + p * acs] * b[bo + p * brs + j * bcs];
                c[co + i * ldc + j] = acc ? c[co + i * ldc + j] + s : s;
            }
        }
    };

    public static Gemm get() { return NAIVE; }
}
