package dev.kiln.backend.cpu.gemm;

import dev.kiln.backend.cpu.parallel.Parallel;
import dev.kiln.backend.cpu.vector.FloatRows;
import dev.kiln.backend.cpu.vector.VectorSupport;

/**
 * The GotoBLAS/BLIS loop nest shared by every kernel family: B is packed per (KC x NC) block into
 * NR-column panels, A per (MC x KC) block into MR-row panels, and a register-tiled micro-kernel
 * sweeps the MR x NR tiles of C. Subclasses only choose micro-kernels and block sizes.
 *
 * <p>Large products are split over output regions (see {@link GemmParallel}), never over k, and
 * the k-block boundaries do not depend on the split, so results are bit-identical for any thread
 * count.
 */
abstract class BlockedGemm implements Gemm {
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
    private static final FloatRows DOTS = VectorSupport.floatRows();

    private final FloatMicroKernel fk;
    private final DoubleMicroKernel dk;
    private final int threads;
    private final int kcBlock;
    private final int mcBlock;
    private final int ncBlock;

    /**
     * mc is rounded up to whole MR panels and nc to whole NR panels (of both precisions) so that
     * blocks never cut a tile in two.
     */
    BlockedGemm(FloatMicroKernel fk, DoubleMicroKernel dk, int threads, int kc, int mc, int nc) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1: " + threads);
        if (kc < 1 || mc < 1 || nc < 1) throw new IllegalArgumentException("block sizes must be >= 1");
        this.fk = fk;
        this.dk = dk;
        this.threads = threads;
        this.kcBlock = kc;
        this.mcBlock = roundUp(mc, lcm(fk.mr(), dk.mr()));
        this.ncBlock = roundUp(nc, lcm(fk.nr(), dk.nr()));
    }

    final int threads() {
        return threads;
    }

    final String tiles() {
        return "f32 " + fk.mr() + "x" + fk.nr() + ", f64 " + dk.mr() + "x" + dk.nr();
    }

    @Override
    public final boolean sgemmUsesDotProducts(int m, int n, int k, int aCs, int bRs) {
        return aCs == 1 && bRs == 1 && (m <= DOT_MAX_ROWS || m <= DOT_LONG_MAX_ROWS && k >= DOT_LONG_MIN_K && (long) n * k <= DOT_LONG_MAX_B);
    }

    @Override
    public final void sgemm(int m, int n, int k, float[] a, int aOff, int aRs, int aCs,
                            float[] b, int bOff, int bRs, int bCs,
                            float[] c, int cOff, int ldc, boolean accumulate) {
        GemmArgs.checkShape(m, n, k, ldc);
        if (GemmArgs.trivial(m, n, k, c, cOff, ldc, accumulate)) return;
        if (sgemmUsesDotProducts(m, n, k, aCs, bRs)) {
            dotProducts(m, n, k, a, aOff, aRs, b, bOff, bCs, c, cOff, ldc, accumulate);
            return;
        }
        int mr = fk.mr(), nr = fk.nr();
        int parts = GemmParallel.parts(threads, m, n, k, mr, nr);
        if (parts == 1) {
            sgemmSerial(m, n, k, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, ldc, accumulate);
            return;
        }
        GemmParallel.run(parts, m, n, mr, nr, (i0, i1, j0, j1) -> sgemmSerial(i1 - i0, j1 - j0, k,
                a, aOff + i0 * aRs, aRs, aCs, b, bOff + j0 * bCs, bRs, bCs,
                c, cOff + i0 * ldc + j0, ldc, accumulate));
    }

    @Override
    public final void dgemm(int m, int n, int k, double[] a, int aOff, int aRs, int aCs,
                            double[] b, int bOff, int bRs, int bCs,
                            double[] c, int cOff, int ldc, boolean accumulate) {
        GemmArgs.checkShape(m, n, k, ldc);
        if (GemmArgs.trivial(m, n, k, c, cOff, ldc, accumulate)) return;
        int mr = dk.mr(), nr = dk.nr();
        int parts = GemmParallel.parts(threads, m, n, k, mr, nr);
        if (parts == 1) {
            dgemmSerial(m, n, k, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, ldc, accumulate);
            return;
        }
        GemmParallel.run(parts, m, n, mr, nr, (i0, i1, j0, j1) -> dgemmSerial(i1 - i0, j1 - j0, k,
                a, aOff + i0 * aRs, aRs, aCs, b, bOff + j0 * bCs, bRs, bCs,
                c, cOff + i0 * ldc + j0, ldc, accumulate));
    }

    /**
     * At most this many rows of C with A's rows and B's columns both contiguous along k (a
     * linear layer at batch 1-4: x @ W^T) are computed as dot products of those rows, whatever k. The
     * packed path would fill an 8-row tile with 1-4 real rows and copy all of W into panels on
     * every call; here W is read once, in place.
     */
    static final int DOT_MAX_ROWS = 4;
    /**
     * Also as dot products: up to this many rows when k is long enough to amortize each
     * result's horizontal sum and B fits in L2 (it is streamed once per 4 rows). Measured on one
     * thread: 64x256x784 (an MLP's first layer) 0.26 ms against 0.35 through the packed path,
     * whose packing of W^T is a transpose; on two, 64x120x400 (LeNet's first linear layer) 0.046
     * against 0.079 ms and 64x128x256 0.035 against 0.042; at k = 120 the dot form was 2x slower,
     * and from 256 rows the packed path is as fast or faster (256x512x512: 0.88 against 0.96 ms).
     */
    static final int DOT_LONG_MAX_ROWS = 128;
    static final int DOT_LONG_MIN_K = 256;
    static final long DOT_LONG_MAX_B = 1L << 18;
    static final long DOT_PARALLEL_B_ELEMENTS = 1 << 16;
    /** Dot products split over the pool from this many multiply-adds, or from a B of DOT_PARALLEL_B_ELEMENTS. */
    static final long DOT_PARALLEL_FMAS = 1L << 19;

    private void dotProducts(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float[] c, int cOff, int ldc, boolean accumulate) {
        // bound by reading B (each element used m <= 4 times): split once B is past ~256 KiB,
        // where a second core's cache bandwidth pays for the hand-off
        int parts = threads <= 1 || ((long) n * k < DOT_PARALLEL_B_ELEMENTS && (long) m * n * k < DOT_PARALLEL_FMAS) ? 1 : Math.min(threads, GemmParallel.ceilDiv(n, 16));
        if (parts <= 1) {
            DOTS.dotRows(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
            return;
        }
        // columns split at multiples of 4 (dotRows' block width): every C element is the same
        // dot product, computed the same way, whatever the split
        Parallel.forRanges(parts, n, 4, true,
                (q, j0, j1) -> DOTS.dotRows(m, j1 - j0, k, a, aOff, lda, b, bOff + j0 * ldb, ldb, c, cOff + j0, ldc, accumulate));
    }

    private void sgemmSerial(int m, int n, int k, float[] a, int aOff, int aRs, int aCs,
                             float[] b, int bOff, int bRs, int bCs,
                             float[] c, int cOff, int ldc, boolean accumulate) {
        final FloatMicroKernel kernel = fk;
        final int mr = kernel.mr(), nr = kernel.nr();
        int kcMax = Math.min(k, kcBlock);
        Scratch s = SCRATCH.get();
        float[] pa = s.floatA(kcMax * roundUp(Math.min(m, mcBlock), mr));
        float[] pb = s.floatB(kcMax * roundUp(Math.min(n, ncBlock), nr));
        float[] edge = s.floatEdge(mr * nr);
        // With at most two row tiles, each B panel is streamed once or twice: packing it would
        // cost as much as using it (convolutions with 6 or 16 output channels). Full-width
        // panels of a row-major B are then read in place; only a ragged last panel is packed.
        boolean direct = bCs == 1 && m <= 2 * mr;
        for (int jc = 0; jc < n; jc += ncBlock) {
            int nc = Math.min(ncBlock, n - jc);
            int full = nc / nr * nr;
            for (int pc = 0; pc < k; pc += kcBlock) {
                int kc = Math.min(kcBlock, k - pc);
                // The first k block overwrites C (never reading it); later ones add to it.
                boolean first = pc == 0 && !accumulate;
                int bBase = bOff + pc * bRs + jc * bCs;
                if (!direct) Pack.packB(b, bBase, bRs, bCs, kc, nc, nr, pb);
                else if (full < nc) Pack.packB(b, bBase + full, bRs, bCs, kc, nc - full, nr, pb);
                for (int ic = 0; ic < m; ic += mcBlock) {
                    int mc = Math.min(mcBlock, m - ic);
                    Pack.packA(a, aOff + ic * aRs + pc * aCs, aRs, aCs, mc, kc, mr, pa);
                    for (int jr = 0; jr < nc; jr += nr) {
                        int cols = Math.min(nr, nc - jr);
                        boolean inPlace = direct && jr < full;
                        float[] bp = inPlace ? b : pb;
                        int bi = inPlace ? bBase + jr : direct ? 0 : (jr / nr) * kc * nr;
                        int ldb = inPlace ? bRs : nr;
                        int cBase = cOff + ic * ldc + jc + jr;
                        for (int ir = 0; ir < mc; ir += mr) {
                            kernel.tile(kc, pa, (ir / mr) * kc * mr, bp, bi, ldb,
                                    c, cBase + ir * ldc, ldc, Math.min(mr, mc - ir), cols, first, edge);
                        }
                    }
                }
            }
        }
    }

    private void dgemmSerial(int m, int n, int k, double[] a, int aOff, int aRs, int aCs,
                             double[] b, int bOff, int bRs, int bCs,
                             double[] c, int cOff, int ldc, boolean accumulate) {
        final DoubleMicroKernel kernel = dk;
        final int mr = kernel.mr(), nr = kernel.nr();
        int kcMax = Math.min(k, kcBlock);
        Scratch s = SCRATCH.get();
        double[] pa = s.doubleA(kcMax * roundUp(Math.min(m, mcBlock), mr));
        double[] pb = s.doubleB(kcMax * roundUp(Math.min(n, ncBlock), nr));
        double[] edge = s.doubleEdge(mr * nr);
        for (int jc = 0; jc < n; jc += ncBlock) {
            int nc = Math.min(ncBlock, n - jc);
            for (int pc = 0; pc < k; pc += kcBlock) {
                int kc = Math.min(kcBlock, k - pc);
                boolean first = pc == 0 && !accumulate;
                Pack.packB(b, bOff + pc * bRs + jc * bCs, bRs, bCs, kc, nc, nr, pb);
                for (int ic = 0; ic < m; ic += mcBlock) {
                    int mc = Math.min(mcBlock, m - ic);
                    Pack.packA(a, aOff + ic * aRs + pc * aCs, aRs, aCs, mc, kc, mr, pa);
                    for (int jr = 0; jr < nc; jr += nr) {
                        int cols = Math.min(nr, nc - jr);
                        int bi = (jr / nr) * kc * nr;
                        int cBase = cOff + ic * ldc + jc + jr;
                        for (int ir = 0; ir < mc; ir += mr) {
                            kernel.tile(kc, pa, (ir / mr) * kc * mr, pb, bi,
                                    c, cBase + ir * ldc, ldc, Math.min(mr, mc - ir), cols, first, edge);
                        }
                    }
                }
            }
        }
    }

    private static int lcm(int x, int y) {
        int a = x, b = y;
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return x / a * y;
    }

    private static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }
}
