package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.parallel.Parallel;

/**
 * Splits a batch loop into a fixed number of chunks and runs them in parallel when the work is
 * big enough to pay for it. The chunking depends only on the batch size, never on the thread
 * count, so per-chunk partial sums reduced in chunk order give the same bits on any machine.
 */
final class BatchSplit {
    private BatchSplit() {}

    /**
     * Below this much work (multiply-adds, or elements read for pooling) a batch runs on the
     * calling thread. With the pool's spinning workers a hand-off costs about a microsecond, so
     * LeNet's pools (300k and 100k elements) split too; behind a ForkJoinPool it was 2^20.
     */
    static final long PARALLEL_WORK = 1L << 16;
    static final int MAX_CHUNKS = 8;

    static int chunks(int n) { return Math.max(1, Math.min(n, MAX_CHUNKS)); }

    /** body(chunk, from, to) over chunks(n) ranges of [0, n); an empty batch still runs chunk 0 (callers reduce per-chunk partials). */
    static void run(int n, long workPerItem, Parallel.Range body) {
        if (n == 0) {
            body.run(0, 0, 0);
            return;
        }
        int chunks = chunks(n);
        Parallel.forRanges(chunks, n, 1, chunks > 1 && workPerItem * n >= PARALLEL_WORK, body);
    }
}
