package dev.kiln.serve;

import dev.kiln.backend.Strided;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Gathers concurrent requests into one model run. One thread forms batches: it first waits for a
 * free runner (one per core), then for up to {@code maxDelay} after the oldest queued request's
 * arrival or until {@code maxBatch} rows are queued, and hands the batch to the runner. Because
 * it waits for a runner first, requests pile up while all cores are busy, so batches grow with
 * the load and stay small (low latency) when the server is idle.
 *
 * <p>Requests are batched only with requests whose inputs have the same shapes apart from dim 0
 * (other symbolic dims may differ between requests). A request with {@code maxBatch} rows or more
 * runs alone on the caller's thread. When a batch fails, its requests are rerun one by one so
 * only the request at fault gets the error.
 */
final class DynamicBatcher implements AutoCloseable {
    private record Pending(List<Strided> inputs, int rows, String key, long arrivalNanos, CompletableFuture<List<Strided>> result) {}

    private final ServedModel model;
    private final Metrics metrics;
    private final int maxBatch;
    private final long maxDelayNanos;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private final int runnerCount = Runtime.getRuntime().availableProcessors();
    private final Semaphore freeRunners = new Semaphore(runnerCount);
    private final ExecutorService runners = Executors.newFixedThreadPool(runnerCount, daemon("kiln-batch-run"));
    private final Thread former;
    private boolean closing;

    DynamicBatcher(ServedModel model, Metrics metrics, int maxBatch, long maxDelayMs) {
        this.model = model;
        this.metrics = metrics;
        this.maxBatch = maxBatch;
        this.maxDelayNanos = TimeUnit.MILLISECONDS.toNanos(maxDelayMs);
        this.former = daemon("kiln-batch-former").newThread(this::formBatches);
        former.start();
    }

    /** The outputs of running {@code inputs} (dim 0 of each is the request's rows). */
    CompletableFuture<List<Strided>> submit(List<Strided> inputs) {
        int rows = inputs.get(0).shape()[0];
        CompletableFuture<List<Strided>> f = new CompletableFuture<>();
        if (rows >= maxBatch) {
            runAlone(new Pending(inputs, rows, "", System.nanoTime(), f));
            return f;
        }
        lock.lock();
        try {
            if (closing) throw new ApiException(503, "the server is shutting down");
            queue.add(new Pending(inputs, rows, keyOf(inputs), System.nanoTime(), f));
            changed.signal();
        } finally {
            lock.unlock();
        }
        return f;
    }

    private static String keyOf(List<Strided> inputs) {
        StringBuilder k = new StringBuilder();
        for (Strided x : inputs) k.append(Arrays.toString(Arrays.copyOfRange(x.shape(), 1, x.rank()))).append(x.dtype());
        return k.toString();
    }

    private void formBatches() {
        while (true) {
            try {
                freeRunners.acquire();
            } catch (InterruptedException e) {
                return;
            }
            List<Pending> batch = nextBatch();
            if (batch == null) {
                freeRunners.release();
                return;
            }
            runners.execute(() -> {
                try {
                    run(batch);
                } finally {
                    freeRunners.release();
                }
            });
        }
    }

    /** Blocks until a batch is due; null once closed and drained. */
    private List<Pending> nextBatch() {
        lock.lock();
        try {
            while (queue.isEmpty()) {
                if (closing) return null;
                changed.awaitUninterruptibly();
            }
            Pending head = queue.peekFirst();
            long deadline = head.arrivalNanos() + maxDelayNanos;
            while (!closing && rowsLike(head) < maxBatch) {
                long left = deadline - System.nanoTime();
                if (left <= 0) break;
                try {
                    changed.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            List<Pending> batch = new ArrayList<>();
            int rows = 0;
            for (Iterator<Pending> it = queue.iterator(); it.hasNext(); ) {
                Pending p = it.next();
                if (p.key().equals(head.key()) && rows + p.rows() <= maxBatch) {
                    batch.add(p);
                    rows += p.rows();
                    it.remove();
                }
            }
            return batch;
        } finally {
            lock.unlock();
        }
    }

    private int rowsLike(Pending head) {
        int rows = 0;
        for (Pending p : queue) if (p.key().equals(head.key())) rows += p.rows();
        return rows;
    }

    private void run(List<Pending> batch) {
        if (batch.size() == 1) {
            runAlone(batch.get(0));
            return;
        }
        List<Strided> outputs;
        int rows = 0;
        try {
            List<Strided> inputs = new ArrayList<>();
            for (int i = 0; i < batch.get(0).inputs().size(); i++) {
                int input = i;
                inputs.add(Rows.concat(batch.stream().map(p -> p.inputs().get(input)).toList()));
            }
            rows = inputs.get(0).shape()[0];
            outputs = model.run(inputs);
        } catch (RuntimeException | Error e) {
            for (Pending p : batch) runAlone(p);
            return;
        }
        metrics.batch(rows, batch.size());
        int start = 0;
        for (Pending p : batch) {
            List<Strided> mine = new ArrayList<>();
            for (Strided y : outputs) mine.add(Rows.slice(y, start, start + p.rows()));
            start += p.rows();
            p.result().complete(mine);
        }
    }

    private void runAlone(Pending p) {
        try {
            List<Strided> out = model.run(p.inputs());
            metrics.batch(p.rows(), 1);
            p.result().complete(out);
        } catch (RuntimeException | Error e) {
            p.result().completeExceptionally(e);
        }
    }

    /** Runs what is queued, then stops the threads (waiting up to {@code timeoutMillis}). */
    @Override
    public void close() { close(10_000); }

    void close(long timeoutMillis) {
        lock.lock();
        try {
            closing = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            former.join(timeoutMillis);
            runners.shutdown();
            runners.awaitTermination(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        runners.shutdownNow();
    }

    static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
