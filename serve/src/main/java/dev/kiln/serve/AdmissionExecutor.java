package dev.kiln.serve;

import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The HTTP server's executor: a fixed pool of workers that counts the exchanges admitted (queued or
 * running). The JDK server hands over each exchange before its headers are read, so the handler
 * cannot refuse it here; instead the worker learns whether its exchange arrived over the limit
 * ({@link #overLimit()}) and answers 503 at once, which keeps the queue short under overload.
 */
final class AdmissionExecutor implements Executor {
    /** Far above any sane --max-inflight: only a flood of connections reaches it, and those are dropped. */
    private static final int QUEUE_CAPACITY = 10_000;
    private static final ThreadLocal<Boolean> OVER = ThreadLocal.withInitial(() -> false);

    private final ThreadPoolExecutor pool;
    private final AtomicInteger admitted = new AtomicInteger();
    private final int limit;

    AdmissionExecutor(int threads, int limit) {
        this.limit = limit;
        this.pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(QUEUE_CAPACITY),
                DynamicBatcher.daemon("kiln-http"));
    }

    @Override
    public void execute(Runnable exchange) {
        int n = admitted.incrementAndGet();
        try {
            pool.execute(() -> {
                OVER.set(n > limit);
                try {
                    exchange.run();
                } finally {
                    OVER.remove();
                    admitted.decrementAndGet();
                }
            });
        } catch (RuntimeException e) {
            admitted.decrementAndGet();
            throw e;
        }
    }

    /** True on a worker whose exchange was admitted while {@code limit} others were in flight. */
    static boolean overLimit() { return OVER.get(); }

    /** Exchanges queued or running. */
    int inFlight() { return admitted.get(); }

    void shutdown(long timeoutMillis) {
        pool.shutdown();
        try {
            if (!pool.awaitTermination(timeoutMillis, TimeUnit.MILLISECONDS)) pool.shutdownNow();
        } catch (InterruptedException e) {
            pool.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
