package dev.kiln.serve;

import dev.kiln.serialization.Artifact;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One version of one served model: compiled, with its own batcher and predict endpoint. A
 * request holds it ({@link #acquire}) while it runs; a reload that replaces or removes it
 * {@link #retire}s it, and its batcher stops only once the last request holding it is done, so a
 * reload drops no request.
 */
final class LoadedModel {
    /** The name in URLs: the repository's directory name, or the graph's name for a single file. */
    final String name;
    final long version;
    final ServedModel served;
    final Predict predict;
    private final DynamicBatcher batcher;
    /** What the files looked like when loaded (sizes and modification times), to see changes. */
    final String stamp;
    /** Requests holding this version; -1 once it is retired and idle (closed). */
    private final AtomicInteger holders = new AtomicInteger();
    private volatile boolean retired;

    LoadedModel(String name, long version, Artifact artifact, String stamp, ServeOptions options, Metrics metrics) {
        this.name = name;
        this.version = version;
        this.stamp = stamp;
        this.served = new ServedModel(artifact);
        this.batcher = served.batchSymbol != null && options.maxBatch() > 1 ? new DynamicBatcher(served, metrics, options.maxBatch(), options.maxDelayMs()) : null;
        this.predict = new Predict(served, batcher, metrics, options.maxBodyBytes());
    }

    String versionText() { return Long.toString(version); }

    boolean batching() { return batcher != null; }

    /** False when this version was retired before the request got hold of it (the caller looks again). */
    boolean acquire() {
        while (true) {
            int n = holders.get();
            if (n < 0 || retired) return false;
            if (holders.compareAndSet(n, n + 1)) return true;
        }
    }

    void release() {
        if (holders.decrementAndGet() == 0 && retired) closeIfIdle();
    }

    /** No new requests; the batcher stops when the last holder is done. */
    void retire() {
        retired = true;
        closeIfIdle();
    }

    private void closeIfIdle() {
        if (!holders.compareAndSet(0, -1)) return;
        if (batcher != null) {
            Thread t = new Thread(() -> batcher.close(1000), "kiln-retire-" + name + "-" + version); // not on a request's thread
            t.setDaemon(true);
            t.start();
        }
    }

    /** Stops at once (server shutdown, after the drain). */
    void close() {
        retired = true;
        if (batcher != null) batcher.close(1000);
    }
}
