package dev.kiln.backend.cpu.gemm;

/**
 * Copies strided blocks of A and B into the contiguous panel layouts the micro-kernels stream
 * through. Panels are zero-padded to full MR rows / NR columns, so a kernel always runs a full
 * tile and only the final write-back needs to know about the ragged edge.
 *
 * <p>A block (rows x kc) becomes ceil(rows / mr) panels, each laid out [p][r] (mr values per k
 * step). B block (kc x cols) becomes ceil(cols / nr) panels, each laid out [p][c].
 */
final class Pack {
    private Pack() {}

    /** k-steps per pass when packing a column-major B (see packColumnMajorB). */
    static final int TRANSPOSE_K = 64;

    static void packA(float[] a, int off, int rs, int cs, int rows, int kc, int mr, float[] dst) {
        if (cs == 1 && rs != 1) {
            packRowMajorA(a, off, rs, rows, kc, mr, dst);
            return;
        }
        int d = 0;
        for (int i = 0; i < rows; i += mr) {
            int valid = Math.min(mr, rows - i);
            int base = off + i * rs;
            for (int p = 0; p < kc; p++) {
                int src = base + p * cs;
                int r = 0;
                for (; r < valid; r++) dst[d + r] = a[src + r * rs];
                for (; r < mr; r++) dst[d + r] = 0f;
                d += mr;
            }
        }
    }

    /**
     * A stored row-major (activations, attention weights): each of a panel's rows is read in
     * order and scattered with stride mr into the panel, which stays in L1. Reading a k step
     * across the panel's rows instead touches mr rows at once; on data not yet in cache (a
     * plan's activations, attention's [B, H, T, T] weights) the prefetchers do not follow those
     * interleaved runs. Measured on cold data (2 threads, Zen 4): attention's [128 x 128] @
     * [128 x 32] products 2.2-2.8 -> 1.5-1.7 ms per [32, 4] batch; the linear layers' forward
     * GEMMs (4096 rows) about 5% faster, 10% on one thread.
     */
    private static void packRowMajorA(float[] a, int off, int rs, int rows, int kc, int mr, float[] dst) {
        int d = 0;
        for (int i = 0; i < rows; i += mr) {
            int valid = Math.min(mr, rows - i);
            for (int r = 0; r < valid; r++) {
                int src = off + (i + r) * rs;
                for (int p = 0, o = d + r; p < kc; p++, o += mr) dst[o] = a[src + p];
            }
            for (int r = valid; r < mr; r++) {
                for (int p = 0, o = d + r; p < kc; p++, o += mr) dst[o] = 0f;
            }
            d += kc * mr;
        }
    }

    static void packA(double[] a, int off, int rs, int cs, int rows, int kc, int mr, double[] dst) {
        int d = 0;
        for (int i = 0; i < rows; i += mr) {
            int valid = Math.min(mr, rows - i);
            int base = off + i * rs;
            for (int p = 0; p < kc; p++) {
                int src = base + p * cs;
                int r = 0;
                for (; r < valid; r++) dst[d + r] = a[src + r * rs];
                for (; r < mr; r++) dst[d + r] = 0d;
                d += mr;
            }
        }
    }

    static void packB(float[] b, int off, int rs, int cs, int kc, int cols, int nr, float[] dst) {
        if (rs == 1 && cs != 1) {
            packColumnMajorB(b, off, cs, kc, cols, nr, dst);
            return;
        }
        int d = 0;
        for (int j = 0; j < cols; j += nr) {
            int valid = Math.min(nr, cols - j);
            int base = off + j * cs;
            for (int p = 0; p < kc; p++) {
                int src = base + p * rs;
                if (cs == 1) {
                    // Row-major B: each k step of the panel is one contiguous run.
                    System.arraycopy(b, src, dst, d, valid);
                } else {
                    for (int c = 0; c < valid; c++) dst[d + c] = b[src + c * cs];
                }
                for (int c = valid; c < nr; c++) dst[d + c] = 0f;
                d += nr;
            }
        }
    }

    static void packB(double[] b, int off, int rs, int cs, int kc, int cols, int nr, double[] dst) {
        int d = 0;
        for (int j = 0; j < cols; j += nr) {
            int valid = Math.min(nr, cols - j);
            int base = off + j * cs;
            for (int p = 0; p < kc; p++) {
                int src = base + p * rs;
                if (cs == 1) {
                    System.arraycopy(b, src, dst, d, valid);
                } else {
                    for (int c = 0; c < valid; c++) dst[d + c] = b[src + c * cs];
                }
                for (int c = valid; c < nr; c++) dst[d + c] = 0d;
                d += nr;
            }
        }
    }

    /**
     * B stored column-major (a transposed row-major matrix, as in {@code x.matmul(w.t())}), float
     * only (float64 GEMMs serve gradient checks, where the generic loop is fast enough): each
     * column is contiguous along k, so read it in order and scatter with stride nr. Reading
     * row-wise instead would touch a new cache line per element.
     */
    private static void packColumnMajorB(float[] b, int off, int cs, int kc, int cols, int nr, float[] dst) {
        int d = 0;
        for (int j = 0; j < cols; j += nr) {
            int valid = Math.min(nr, cols - j);
            // k in steps of TRANSPOSE_K: the panel rows being written (TRANSPOSE_K x nr) stay in L1
            // while every column of the panel contributes its next run
            for (int p0 = 0; p0 < kc; p0 += TRANSPOSE_K) {
                int p1 = Math.min(kc, p0 + TRANSPOSE_K);
                for (int c = 0; c < valid; c++) {
                    int src = off + (j + c) * cs;
                    for (int p = p0, o = d + p0 * nr + c; p < p1; p++, o += nr) dst[o] = b[src + p];
                }
            }
            for (int c = valid; c < nr; c++) {
                for (int p = 0, o = d + c; p < kc; p++, o += nr) dst[o] = 0f;
            }
            d += kc * nr;
        }
    }
}
