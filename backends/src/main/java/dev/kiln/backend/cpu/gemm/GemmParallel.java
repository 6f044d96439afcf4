package dev.kiln.backend.cpu.gemm;

import dev.kiln.backend.cpu.parallel.Parallel;

/**
 * Splits one gemm into independent output regions and runs them on Kiln's CPU pool ({@link Parallel}).
 *
 * <p>Only the output (M or N) is ever split, never k: every C element is still produced by one
 * thread with the same block boundaries and summation order, so results are bit-identical
 * whatever the thread count.
 */
final class GemmParallel {
    private GemmParallel() {}

    /**
     * Below this many flops (2*m*n*k) a product stays on the caller ({@code -Dkiln.gemmMinParallel}
     * overrides it). Measured on a 2-core EPYC VM with {@link Parallel}'s spinning workers (a
     * hand-off of about a microsecond): 2 threads win from ~1e6 flops (96^3: 17 us against 30 us,
     * 64x128x256: 48 us against 62 us). Behind a ForkJoinPool, whose parked workers took ~50 us
     * to wake, the break-even was near 8e6.
     */
    static final long MIN_PARALLEL_FLOPS = Long.getLong("kiln.gemmMinParallel", 1_000_000L);

    /** A rectangular part of the output: rows [i0, i1), columns [j0, j1). */
    interface Region {
        void run(int i0, int i1, int j0, int j1);
    }

    /**
     * How many parts to cut an m x n x k product into, given a thread budget and the tile sizes
     * (a part smaller than one tile would only add edge work).
     */
    static int parts(int threads, int m, int n, int k, int mr, int nr) {
        if (threads <= 1) return 1;
        if (2L * m * n * k < MIN_PARALLEL_FLOPS) return 1;
        if (Parallel.inJob()) return 1; // inside a pool job (one GEMM of a spread batch) a split would only run serially
        int tiles = Math.max(ceilDiv(n, nr), ceilDiv(m, mr));
        return Math.max(1, Math.min(threads, tiles));
    }

    /**
     * Runs {@code body} over {@code parts} disjoint regions covering the m x n output. The
     * dimension with more tiles is split, at tile granularity.
     */
    static void run(int parts, int m, int n, int mr, int nr, Region body) {
        boolean splitN = ceilDiv(n, nr) >= ceilDiv(m, mr);
        Parallel.forRanges(parts, splitN ? n : m, splitN ? nr : mr, true, (q, lo, hi) -> {
            if (splitN) body.run(0, m, lo, hi);
            else body.run(lo, hi, 0, n);
        });
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
