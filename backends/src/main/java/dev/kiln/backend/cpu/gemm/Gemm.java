package dev.kiln.backend.cpu.gemm;

/** C[m x n] (+)= A[m x k] * B[k x n] over arbitrary 2-D strided A and B; C row-major with leading dim ldc. */
public interface Gemm {
    void sgemm(int m, int n, int k, float[] a, int aOff, int aRowStride, int aColStride,
               float[] b, int bOff, int bRowStride, int bColStride,
               float[] c, int cOff, int ldc, boolean accumulate);

    void dgemm(int m, int n, int k, double[] a, int aOff, int aRowStride, int aColStride,
               double[] b, int bOff, int bRowStride, int bColStride,
               double[] c, int cOff, int ldc, boolean accumulate);
}
