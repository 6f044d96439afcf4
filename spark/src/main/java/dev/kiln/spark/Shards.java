package dev.kiln.spark;

import dev.kiln.eager.random.Generator;

/**
 * Which rows each worker trains on at each step, written once for the workers and for the
 * one-process run they must equal. Row i of the data belongs to worker {@code i mod N}; a worker
 * keeps its rows in index order and walks them {@code perWorker} at a time, reshuffled each
 * local epoch from (seed, epoch, worker). The global batch of a step is the concatenation, in
 * worker order, of every worker's local batch.
 */
public final class Shards {
    private Shards() {}

    /** How many of {@code rows} rows (indices 0..rows-1) worker w of n holds. */
    public static int shardSize(long rows, int w, int n) { return (int) ((rows - w + n - 1) / n); }

    /**
     * Positions, within worker w's shard, of its rows in step {@code step}'s batch. A local epoch
     * is {@code shard / perWorker} full batches (a partial last batch is dropped).
     */
    public static int[] localBatch(int shard, int perWorker, long seed, int w, int step) { return new Walker(shard, perWorker, seed, w).batch(step); }

    /** One worker's walk over its shard, keeping the current epoch's order (a training loop asks step after step). */
    static final class Walker {
        private final int shard, perWorker, w, batches;
        private final long seed;
        private int epoch = -1;
        private int[] order;

        Walker(int shard, int perWorker, long seed, int w) {
            this.shard = shard;
            this.perWorker = perWorker;
            this.seed = seed;
            this.w = w;
            this.batches = shard / perWorker;
            if (batches == 0) throw new IllegalArgumentException("worker " + w + " holds " + shard + " rows, fewer than its " + perWorker + " per step");
        }

        int[] batch(int step) {
            int e = step / batches, b = step % batches;
            if (e != epoch) {
                order = permutation(shard, seed, e, w);
                epoch = e;
            }
            int[] out = new int[perWorker];
            System.arraycopy(order, b * perWorker, out, 0, perWorker);
            return out;
        }
    }

    /** Dataset row indices of step {@code step}'s global batch with n workers of {@code perWorker} rows each. */
    public static long[] globalBatch(long rows, int n, int perWorker, long seed, int step) {
        long[] out = new long[n * perWorker];
        for (int w = 0; w < n; w++) {
            int[] local = localBatch(shardSize(rows, w, n), perWorker, seed, w, step);
            for (int j = 0; j < perWorker; j++) out[w * perWorker + j] = (long) local[j] * n + w;
        }
        return out;
    }

    /** A Fisher-Yates shuffle from a generator seeded by (seed, epoch, worker). */
    private static int[] permutation(int n, long seed, int epoch, int w) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        long key = seed * 1_000_003L + epoch * 7919L + w;
        for (int i = n - 1; i > 0; i--) {
            int j = (int) Math.floorMod(Generator.bits(key, i), (long) (i + 1));
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
