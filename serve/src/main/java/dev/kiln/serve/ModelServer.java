package dev.kiln.serve;

import dev.kiln.serialization.Artifact;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Models behind HTTP, on {@link NettyTransport}: connections are cheap and bounded, each must
 * send its request within the read timeout, bodies are read against a limit and a memory budget
 * ({@link MemoryBudget}), complete requests run on a bounded worker pool with an admission count
 * ({@link AdmissionExecutor}), and {@link #stop(int)} drains. One model file, or a model
 * directory with versions ({@link ModelRepository}) that {@link #reload} rescans.
 */
public final class ModelServer {
    private final NettyTransport transport;
    private final AdmissionExecutor executor;
    private final ModelRepository models;
    private final MemoryBudget budget;
    private final AccessLog accessLog;
    private final ScheduledExecutorService poller;
    private volatile boolean draining;
    private boolean stopped;

    private ModelServer(ModelRepository models, Metrics metrics, ServeOptions options, Consumer<ModelRepository.Report> onReload) throws IOException {
        this.models = models;
        this.executor = new AdmissionExecutor(options.threads(), options.maxInflight());
        this.budget = options.memoryBudgetBytes() > 0 ? new MemoryBudget(options.memoryBudgetBytes()) : MemoryBudget.forHeap();
        metrics.budgetUsed = budget::used;
        try {
            this.accessLog = options.accessLog() == null ? null : AccessLog.open(options.accessLog());
        } catch (IOException e) {
            executor.shutdown(0);
            models.close();
            throw new IOException("cannot open the access log " + options.accessLog() + ": " + e.getMessage(), e);
        }
        Api api = new Api(models, metrics, options, () -> draining);
        try {
            this.transport = new NettyTransport(options, budget, executor, api, accessLog);
        } catch (java.net.BindException e) {
            // the JDK's message ("Address already in use") names neither the port nor the host
            executor.shutdown(0);
            models.close();
            if (accessLog != null) accessLog.close();
            throw new java.net.BindException("cannot listen on " + options.host() + ":" + options.port() + ": " + e.getMessage()
                    + " (another process holds the port; pick another with --port, or --port 0 for any free one)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            executor.shutdown(0);
            models.close();
            throw new IOException("interrupted while binding", e);
        }
        if (models.isDirectory() && options.pollSeconds() > 0) {
            poller = Executors.newSingleThreadScheduledExecutor(DynamicBatcher.daemon("kiln-model-poll"));
            poller.scheduleWithFixedDelay(() -> {
                try {
                    onReload.accept(reload());
                } catch (RuntimeException | Error e) { // a failed rescan must not end the polling (the executor would stop silently)
                    System.getLogger("dev.kiln.serve").log(System.Logger.Level.ERROR, "reloading the model directory failed", e);
                }
            }, options.pollSeconds(), options.pollSeconds(), TimeUnit.SECONDS);
        } else {
            poller = null;
        }
    }

    /** Loads nothing itself: compiles {@code artifact} (version 1, named by its graph), binds, and serves until {@link #stop(int)}. */
    public static ModelServer start(Artifact artifact, ServeOptions options) throws IOException {
        Metrics metrics = new Metrics();
        return new ModelServer(ModelRepository.single(artifact, options, metrics), metrics, options, r -> {});
    }

    /**
     * Serves every model of a model directory ({@code DIR/NAME/VERSION/model file}); a problem
     * with any of them fails the start, naming each. With {@code options.pollSeconds()} the
     * directory is rescanned that often, and {@code onReload} hears what changed.
     */
    public static ModelServer start(Path directory, ModelRepository.Loader loader, ServeOptions options, Consumer<ModelRepository.Report> onReload) throws IOException {
        Metrics metrics = new Metrics();
        return new ModelServer(ModelRepository.open(directory, loader, options, metrics), metrics, options, onReload);
    }

    /**
     * Rescans the model directory: new and changed versions load beside the running ones and
     * replace them at once; requests in flight finish on the version they started with. A version
     * that fails to load is reported and its previous files keep serving.
     */
    public ModelRepository.Report reload() {
        if (draining) return new ModelRepository.Report(List.of(), List.of("the server is stopping"));
        return models.reload();
    }

    public int port() { return transport.port(); }

    public String url() { return "http://" + transport.host() + ":" + port(); }

    /** The first served model's name (the {@code NAME} in {@code /v1/models/NAME}). */
    public String modelName() { return models.names().isEmpty() ? "" : models.names().get(0); }

    /** The served models' names, sorted. */
    public List<String> modelNames() { return models.names(); }

    /** Open connections (for tests and metrics). */
    public int connections() { return transport.connections(); }

    /** Bytes the requests in flight hold in the memory budget. */
    public long memoryInUse() { return budget.used(); }

    /** Whether requests are batched dynamically (and if not, why), per model version. */
    public String batchingDescription() {
        StringBuilder s = new StringBuilder();
        for (LoadedModel m : models.all()) {
            if (s.length() > 0) s.append("; ");
            if (models.all().size() > 1) s.append(m.name).append(" v").append(m.version).append(": ");
            s.append(m.batching() ? "on (dim " + m.served.batchSymbol + ")" : "off (" + (m.served.batchSymbol == null ? m.served.unbatchableReason : "--max-batch is 1") + ")");
        }
        return s.toString();
    }

    /**
     * Graceful shutdown: new predictions are refused with 503 at once, requests already admitted
     * finish (for up to {@code drainSeconds}), then the socket closes and the threads stop.
     */
    public synchronized void stop(int drainSeconds) {
        if (stopped) return;
        stopped = true;
        draining = true;
        if (poller != null) poller.shutdownNow();
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
        models.close();
        executor.shutdown(1000);
        if (accessLog != null) accessLog.close();
    }
}
