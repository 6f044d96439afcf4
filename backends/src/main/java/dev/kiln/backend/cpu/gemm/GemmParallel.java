package dev.kiln.backend.cpu.gemm;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Splits one gemm into independent output regions and runs them on a shared daemon pool.
 *
 * <p>Only the output (M or N) is ever split, never k: every C element is still produced by one
 * thread with the same block boundaries and summation order, so results are bit-identical
 * whatever the thread count.
 */
final class GemmParallel {
    private GemmParallel() {}

    /**
     * Below this many flops (2*m*n*k) a fork/join hand-off costs more than it saves. Measured with
     * square sgemm on a 2-core EPYC VM: waking a parked pool worker costs ~50 us, so 2 threads
     * lose at 128^3 (4.2e6 flops: 65 us vs 47 us), break even near 160^3 (8e6) and win from
     * 192^3 (1.4e7: 101 us vs 147 us).
     */
    static final long MIN_PARALLEL_FLOPS = 10_000_000L;

    /** A rectangular part of the output: rows [i0, i1), columns [j0, j1). */
    interface Region {
        void run(int i0, int i1, int j0, int j1);
    }

    private static final class PoolHolder {
        static final ForkJoinPool POOL = new ForkJoinPool(
                Runtime.getRuntime().availableProcessors(), new DaemonFactory(), null, false);
    }

    private static final class DaemonFactory implements ForkJoinPool.ForkJoinWorkerThreadFactory {
        private final AtomicInteger count = new AtomicInteger();

        @Override
        public ForkJoinWorkerThread newThread(ForkJoinPool pool) {
            ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
            t.setName("kiln-gemm-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        }
    }

    /**
     * How many parts to cut an m x n x k product into, given a thread budget and the tile sizes
     * (a part smaller than one tile would only add edge work).
     */
    static int parts(int threads, int m, int n, int k, int mr, int nr) {
        if (threads <= 1) return 1;
        if (2L * m * n * k < MIN_PARALLEL_FLOPS) return 1;
        int tiles = Math.max(ceilDiv(n, nr), ceilDiv(m, mr));
        return Math.max(1, Math.min(threads, tiles));
    }

    /**
     * Runs {@code body} over {@code parts} disjoint regions covering the m x n output. The
     * dimension with more tiles is split, at tile granularity; the caller runs part 0 itself.
     */
    static void run(int parts, int m, int n, int mr, int nr, Region body) {
        boolean splitN = ceilDiv(n, nr) >= ceilDiv(m, mr);
        int tiles = splitN ? ceilDiv(n, nr) : ceilDiv(m, mr);
        int grain = splitN ? nr : mr;
        int extent = splitN ? n : m;
        ForkJoinTask<?>[] forked = new ForkJoinTask<?>[parts - 1];
        for (int p = 1; p < parts; p++) {
            int lo = Math.min(extent, (int) ((long) tiles * p / parts) * grain);
            int hi = Math.min(extent, (int) ((long) tiles * (p + 1) / parts) * grain);
            forked[p - 1] = PoolHolder.POOL.submit(splitN
                    ? () -> body.run(0, m, lo, hi)
                    : () -> body.run(lo, hi, 0, n));
        }
        int hi0 = Math.min(extent, (int) ((long) tiles / parts) * grain);
        if (splitN) body.run(0, m, 0, hi0);
        else body.run(0, hi0, 0, n);
        for (ForkJoinTask<?> t : forked) t.join();
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
