package dev.kiln.eager.data;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.random.Generator;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Iterates a dataset in batches. Each {@code iterator()} is one epoch: the generator gives
 * the shuffle order and an epoch seed from which every sample's augmentation seed derives,
 * so batch order and content depend only on the generator's state, never on the number of
 * workers or on thread timing. With workers, batches are built ahead on a thread pool and
 * handed out in order.
 */
public final class DataLoader<T, B> implements Iterable<B>, AutoCloseable {
    private final Dataset<T> dataset;
    private final Function<List<T>, B> collate;
    private final int batchSize;
    private final boolean shuffle;
    private final boolean dropLast;
    private final Generator generator;
    private final int numWorkers;
    private final int prefetchFactor;
    private ExecutorService pool;
    private Epoch current;
    private boolean closed;

    private DataLoader(Builder<T, B> b) {
        this.dataset = b.dataset;
        this.collate = b.collate;
        this.batchSize = b.batchSize;
        this.shuffle = b.shuffle;
        this.dropLast = b.dropLast;
        this.generator = b.generator != null ? b.generator : Generator.defaultGenerator();
        this.numWorkers = b.numWorkers;
        this.prefetchFactor = b.prefetchFactor;
    }

    /** A loader for samples that are lists of tensors, stacked field by field. */
    public static Builder<List<Tensor>, List<Tensor>> builder(Dataset<List<Tensor>> dataset) {
        return new Builder<>(dataset, Collate.stack());
    }

    /** A loader with a custom collate function (samples to batch). */
    public static <T, B> Builder<T, B> builder(Dataset<T> dataset, Function<List<T>, B> collate) {
        return new Builder<>(dataset, collate);
    }

    /** Batches per epoch. */
    public int size() {
        int n = dataset.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    public Dataset<T> dataset() { return dataset; }

    /** Starts an epoch; an unfinished previous epoch of this loader is cancelled. */
    @Override
    public synchronized Iterator<B> iterator() {
        if (closed) throw new IllegalStateException("DataLoader is closed");
        if (current != null) current.cancel();
        int n = dataset.size();
        int[] order = shuffle ? generator.permutation(n) : identity(n);
        long epochSeed = Generator.bits(generator.seed(), generator.reserve(1));
        current = new Epoch(order, epochSeed);
        return current;
    }

    /** Cancels pending work and stops the worker threads. */
    @Override
    public synchronized void close() {
        closed = true;
        if (current != null) current.cancel();
        if (pool != null) pool.shutdownNow();
    }

    private synchronized ExecutorService pool() {
        if (pool == null) {
            AtomicInteger id = new AtomicInteger();
            pool = Executors.newFixedThreadPool(numWorkers, r -> {
                Thread t = new Thread(r, "kiln-data-worker-" + id.getAndIncrement());
                t.setDaemon(true); // a forgotten close() must not keep the JVM alive
                return t;
            });
        }
        return pool;
    }

    private static int[] identity(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        return p;
    }

    private final class Epoch implements Iterator<B> {
        private final int[] order;
        private final long epochSeed;
        private final int batches;
        private final ArrayDeque<Future<B>> pending = new ArrayDeque<>();
        private int nextToSubmit;
        private int nextToReturn;
        private boolean cancelled;

        Epoch(int[] order, long epochSeed) {
            this.order = order;
            this.epochSeed = epochSeed;
            this.batches = size();
        }

        @Override
        public boolean hasNext() { return !cancelled && nextToReturn < batches; }

        @Override
        public B next() {
            if (cancelled) throw new IllegalStateException("DataLoader: this epoch was cancelled (a new epoch was started or the loader was closed)");
            if (nextToReturn >= batches) throw new NoSuchElementException("DataLoader: epoch finished after " + batches + " batches");
            int k = nextToReturn++;
            if (numWorkers == 0) {
                try {
                    return load(k);
                } catch (RuntimeException e) {
                    cancel(); // as with workers: a failed epoch ends
                    throw e;
                }
            }
            while (nextToSubmit < batches && pending.size() < numWorkers * prefetchFactor) {
                int j = nextToSubmit++;
                pending.add(pool().submit(() -> load(j)));
            }
            try {
                return pending.poll().get();
            } catch (ExecutionException e) {
                cancel();
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException re) throw re;
                if (cause instanceof Error err) throw err;
                throw new DataLoaderException("DataLoader: batch " + k + " failed: " + cause, -1, k, cause);
            } catch (InterruptedException e) {
                cancel();
                Thread.currentThread().interrupt();
                throw new IllegalStateException("DataLoader: interrupted while waiting for batch " + k, e);
            } catch (CancellationException e) {
                throw new IllegalStateException("DataLoader: batch " + k + " was cancelled (the loader was closed)", e);
            }
        }

        private B load(int k) {
            int start = k * batchSize;
            int end = Math.min(start + batchSize, order.length);
            List<T> samples = new ArrayList<>(end - start);
            for (int i = start; i < end; i++) {
                int index = order[i];
                try {
                    samples.add(dataset.get(index, Generator.bits(epochSeed, index)));
                } catch (RuntimeException e) {
                    throw new DataLoaderException("DataLoader: loading sample " + index + " (batch " + k + ") failed: " + e, index, k, e);
                }
            }
            try {
                return collate.apply(samples);
            } catch (RuntimeException e) {
                throw new DataLoaderException("DataLoader: collating batch " + k + " failed: " + e, -1, k, e);
            }
        }

        void cancel() {
            cancelled = true;
            for (Future<B> f : pending) f.cancel(true);
            pending.clear();
        }
    }

    /** Options, with PyTorch's defaults: batch size 1, no shuffle, keep the last partial batch, no workers. */
    public static final class Builder<T, B> {
        private final Dataset<T> dataset;
        private final Function<List<T>, B> collate;
        private int batchSize = 1;
        private boolean shuffle;
        private boolean dropLast;
        private Generator generator;
        private int numWorkers;
        private int prefetchFactor = 2;

        private Builder(Dataset<T> dataset, Function<List<T>, B> collate) {
            if (dataset == null) throw new IllegalArgumentException("DataLoader: dataset is null");
            if (collate == null) throw new IllegalArgumentException("DataLoader: collate function is null");
            this.dataset = dataset;
            this.collate = collate;
        }

        public Builder<T, B> batchSize(int batchSize) {
            if (batchSize <= 0) throw new IllegalArgumentException("DataLoader: batchSize must be positive, got " + batchSize);
            this.batchSize = batchSize;
            return this;
        }

        public Builder<T, B> shuffle(boolean shuffle) { this.shuffle = shuffle; return this; }

        /** Drop the last batch when it is smaller than batchSize. */
        public Builder<T, B> dropLast(boolean dropLast) { this.dropLast = dropLast; return this; }

        /** Source of shuffle orders and augmentation seeds; defaults to the global generator (see Kiln.manualSeed). */
        public Builder<T, B> generator(Generator generator) { this.generator = generator; return this; }

        /** Background threads building batches; 0 loads in the caller's thread. */
        public Builder<T, B> numWorkers(int numWorkers) {
            if (numWorkers < 0) throw new IllegalArgumentException("DataLoader: numWorkers must be >= 0, got " + numWorkers);
            this.numWorkers = numWorkers;
            return this;
        }

        /** Batches prepared ahead per worker. */
        public Builder<T, B> prefetchFactor(int prefetchFactor) {
            if (prefetchFactor <= 0) throw new IllegalArgumentException("DataLoader: prefetchFactor must be positive, got " + prefetchFactor);
            this.prefetchFactor = prefetchFactor;
            return this;
        }

        public DataLoader<T, B> build() { return new DataLoader<>(this); }
    }
}
