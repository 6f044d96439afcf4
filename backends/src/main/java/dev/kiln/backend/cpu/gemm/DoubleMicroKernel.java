package dev.kiln.backend.cpu.gemm;

/**
 * Computes one MR x NR tile of C from a packed A panel (laid out [p][MR]) and a packed B panel
 * (laid out [p][NR]), both zero-padded (see {@link Pack}).
 */
interface DoubleMicroKernel {
    int mr();

    int nr();

    /**
     * C[rows x cols] at {@code c[ci]} (row stride ldc) = (first) or += (otherwise) the kc-step
     * product of the panels at {@code pa[ai]} and {@code pb[bi]}. Each C element is a single
     * accumulator summed over p in order and then combined with C once, so the result never
     * depends on where the tile sits. {@code edge} (at least MR * NR) is scratch for ragged tiles.
     */
    void tile(int kc, double[] pa, int ai, double[] pb, int bi,
              double[] c, int ci, int ldc, int rows, int cols, boolean first, double[] edge);
}
