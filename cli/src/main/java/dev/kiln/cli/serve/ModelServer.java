package dev.kiln.cli.serve;

import com.sun.net.httpserver.HttpServer;
import dev.kiln.serialization.Artifact;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * One model behind HTTP. The JDK's {@code com.sun.net.httpserver} is enough here: the work is a
 * model run per request, not connection juggling, and it adds no dependency to a module that
 * deployments copy around. Its gaps are closed around it: a bounded executor with an admission
 * count ({@link AdmissionExecutor}), bodies read against a limit ({@link BodyReader}), the JDK
 * server's request/response timers for slow clients, and a drain on {@link #stop(int)}.
 */
public final class ModelServer {
    private static final String MAX_REQ_TIME = "sun.net.httpserver.maxReqTime";
    private static final String MAX_RSP_TIME = "sun.net.httpserver.maxRspTime";
    private static final String NO_DELAY = "sun.net.httpserver.nodelay";

    private final HttpServer server;
    private final AdmissionExecutor executor;
    private final DynamicBatcher batcher;
    private final ServedModel model;
    private volatile boolean draining;
    private boolean stopped;

    private ModelServer(Artifact artifact, ServeOptions options) throws IOException {
        this.model = new ServedModel(artifact);
        Metrics metrics = new Metrics();
        this.batcher = model.batchSymbol != null && options.maxBatch() > 1
                ? new DynamicBatcher(model, metrics, options.maxBatch(), options.maxDelayMs()) : null;
        this.executor = new AdmissionExecutor(options.threads(), options.maxInflight());
        configureJdkServer(options.readTimeoutSeconds());
        try {
            this.server = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 0);
        } catch (java.net.BindException e) {
            // the JDK's message ("Address already in use") names neither the port nor the host
            executor.shutdown(0);
            if (batcher != null) batcher.close(0);
            throw new java.net.BindException("cannot listen on " + options.host() + ":" + options.port() + ": " + e.getMessage()
                    + " (another process holds the port; pick another with --port, or --port 0 for any free one)");
        }
        server.setExecutor(executor);
        server.createContext("/", new Api(model, new Predict(model, batcher, metrics, options.maxBodyBytes()), metrics, options, () -> draining));
        server.start();
    }

    /** Loads nothing itself: compiles {@code artifact}, binds, and serves until {@link #stop(int)}. */
    public static ModelServer start(Artifact artifact, ServeOptions options) throws IOException {
        return new ModelServer(artifact, options);
    }

    /**
     * The JDK server closes a connection whose request (headers and body) takes longer than
     * maxReqTime, or whose answer is not taken within maxRspTime, which frees a worker held by a
     * slow client. It also leaves Nagle's algorithm on by default: the answer's headers and body
     * go out as two small writes, and the second waits for the client's delayed ACK (about 40 ms
     * per request on Linux loopback) unless TCP_NODELAY is set. These are JVM-wide settings read
     * once, when the first server starts: a value given with -D wins, and later servers in the
     * same JVM share the first one's.
     */
    private static void configureJdkServer(int timeoutSeconds) {
        if (System.getProperty(MAX_REQ_TIME) == null) System.setProperty(MAX_REQ_TIME, Integer.toString(timeoutSeconds));
        if (System.getProperty(MAX_RSP_TIME) == null) System.setProperty(MAX_RSP_TIME, Integer.toString(timeoutSeconds));
        if (System.getProperty(NO_DELAY) == null) System.setProperty(NO_DELAY, "true");
    }

    public int port() { return server.getAddress().getPort(); }

    public String url() { return "http://" + server.getAddress().getHostString() + ":" + port(); }

    /** The served model's name (the {@code NAME} in {@code /v1/models/NAME}). */
    public String modelName() { return model.graph.name(); }

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
        server.stop(0);
        if (batcher != null) batcher.close(1000);
        executor.shutdown(1000);
    }
}
