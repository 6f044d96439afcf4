package dev.kiln.backend.cpu.gemm;

/**
 * Computes one MR x NR tile of C from a packed A panel (laid out [p][MR]) and a packed B panel
 * (laid out [p][NR]), both zero-padded (see {@link Pack}).
 */
interface FloatMicroKernel {
    int mr();

    int nr();

    /**
     * C[rows x cols] at {@code c[ci]} (row stride ldc) = (first) or += (otherwise) the kc-step
     * product of the panels at {@code pa[ai]} and {@code pb[bi]}. Consecutive k steps of the B
     * panel are {@code ldb} apart: NR for a packed panel, or B's row stride when a full-width
     * panel is read in place from a row-major B. Each C element is a single
     * accumulator summed over p in order and then combined with C once, so the result never
     * depends on where the tile sits. {@code edge} (at least MR * NR) is scratch for ragged tiles.
     */
    void tile(int kc, float[] pa, int ai, float[] pb, int bi, int ldb,
              float[] c, int ci, int ldc, int rows, int cols, boolean first, float[] edge);
}
