package dev.kiln.cli.serve;

import dev.kiln.serialization.Artifact;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * One model behind HTTP, on {@link NettyTransport}: connections are cheap and bounded, each
 * must send its request within the read timeout, bodies are read against a limit and a memory
 * budget ({@link MemoryBudget}), complete requests run on a bounded worker pool with an
 * admission count ({@link AdmissionExecutor}), and {@link #stop(int)} drains.
 */
public final class ModelServer {
    private final NettyTransport transport;
    private final AdmissionExecutor executor;
    private final DynamicBatcher batcher;
    private final ServedModel model;
    private final MemoryBudget budget;
    private volatile boolean draining;
    private boolean stopped;

    private ModelServer(Artifact artifact, ServeOptions options) throws IOException {
        this.model = new ServedModel(artifact);
        Metrics metrics = new Metrics();
        this.batcher = model.batchSymbol != null && options.maxBatch() > 1
                ? new DynamicBatcher(model, metrics, options.maxBatch(), options.maxDelayMs()) : null;
        this.executor = new AdmissionExecutor(options.threads(), options.maxInflight());
        this.budget = options.memoryBudgetBytes() > 0 ? new MemoryBudget(options.memoryBudgetBytes()) : MemoryBudget.forHeap();
        Api api = new Api(model, new Predict(model, batcher, metrics, options.maxBodyBytes()), metrics, options, () -> draining);
        try {
            this.transport = new NettyTransport(options, budget, executor, api);
        } catch (java.net.BindException e) {
            // the JDK's message ("Address already in use") names neither the port nor the host
            executor.shutdown(0);
            if (batcher != null) batcher.close(0);
            throw new java.net.BindException("cannot listen on " + options.host() + ":" + options.port() + ": " + e.getMessage()
                    + " (another process holds the port; pick another with --port, or --port 0 for any free one)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            executor.shutdown(0);
            throw new IOException("interrupted while binding", e);
        }
    }

    /** Loads nothing itself: compiles {@code artifact}, binds, and serves until {@link #stop(int)}. */
    public static ModelServer start(Artifact artifact, ServeOptions options) throws IOException {
        return new ModelServer(artifact, options);
    }

    public int port() { return transport.port(); }

    public String url() { return "http://" + transport.host() + ":" + port(); }

    /** The served model's name (the {@code NAME} in {@code /v1/models/NAME}). */
    public String modelName() { return model.graph.name(); }

    /** Open connections (for tests and metrics). */
    public int connections() { return transport.connections(); }

    /** Bytes the requests in flight hold in the memory budget. */
    public long memoryInUse() { return budget.used(); }

    /** Whether requests are batched dynamically (and if not, why). */
    public String batchingDescription() {
        return batcher != null ? "on (dim " + model.batchSymbol + ")" : "off (" + (model.batchSymbol == null ? model.unbatchableReason : "--max-batch is 1") + ")";
    }

    /**
     * Graceful shutdown: new predictions are refused with 503 at once, requests already admitted
     * finish (for up to {@code drainSeconds}), then the socket closes and the threads stop.
     */
    public synchronized void stop(int drainSeconds) {
        if (stopped) return;
        stopped = true;
        draining = true;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(drainSeconds);
        while (executor.inFlight() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        transport.shutdown();
        if (batcher != null) batcher.close(1000);
        executor.shutdown(1000);
    }
}
