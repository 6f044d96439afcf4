package dev.kiln.backend.cpu.gemm;

/**
 * One family of matrix-multiply kernels.
 *
 * <p>A and B are arbitrary 2-D strided views: element (i, j) of A lives at
 * {@code a[aOff + i * aRowStride + j * aColStride]}. A transposed operand is therefore just a
 * view with swapped strides; implementations absorb the layout while packing, never by copying
 * the whole operand. C is row-major with leading dimension {@code ldc}.
 *
 * <p>With {@code accumulate == false} C is overwritten and never read (it may hold garbage or
 * NaN); with {@code true} the product is added to it. When {@code k == 0} the product is zero,
 * so an overwriting call writes zeros and an accumulating call leaves C unchanged.
 */
public interface Gemm {

    /** C[m x n] (+)= A[m x k] * B[k x n] in float32. */
    void sgemm(int m, int n, int k,
               float[] a, int aOff, int aRowStride, int aColStride,
               float[] b, int bOff, int bRowStride, int bColStride,
               float[] c, int cOff, int ldc, boolean accumulate);

    /** C[m x n] (+)= A[m x k] * B[k x n] in float64. */
    void dgemm(int m, int n, int k,
               double[] a, int aOff, int aRowStride, int aColStride,
               double[] b, int bOff, int bRowStride, int bColStride,
               double[] c, int cOff, int ldc, boolean accumulate);

    /**
     * Whether {@link #sgemm} computes a product of this size and layout as row-by-row dot
     * products instead of packed tiles. The two sum in different orders, so callers that cut one
     * product into row chunks keep every chunk on the algorithm of the whole (same bits).
     */
    default boolean sgemmUsesDotProducts(int m, int n, int k, int aColStride, int bRowStride) { return false; }

    /** A short human-readable name for logs and benchmarks. */
    String name();
}
