package dev.kiln.serve;

/**
 * Settings of one server.
 *
 * @param threads          HTTP worker threads (they mostly wait: on the socket, or on a batch)
 * @param maxBatch         rows per dynamic batch; 1 turns batching off
 * @param maxDelayMs       how long the first request of a batch waits for company
 * @param maxBodyBytes     largest request body read; more is refused with 413 while reading
 * @param maxInflight      requests admitted at once (queued or running); more get 503
 * @param readTimeoutSeconds a connection must send each request (headers and body) within this many seconds of
 *                         connecting or of its previous answer, else it is closed
 * @param maxConnections   open connections at once; more are closed at accept
 * @param memoryBudgetBytes bytes all requests in flight may hold; 0 means a third of the heap
 * @param accessLog        where the access log goes: a file, {@code -} for standard output, null for none
 * @param pollSeconds      how often a model directory is rescanned for new, changed and removed versions; 0: never
 */
public record ServeOptions(String host, int port, int threads, int maxBatch, int maxDelayMs, long maxBodyBytes,
                           int maxInflight, int readTimeoutSeconds, int maxConnections, long memoryBudgetBytes,
                           String accessLog, int pollSeconds) {
    public ServeOptions {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in 0..65535, got " + port);
        if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        if (maxBatch < 1) throw new IllegalArgumentException("--max-batch must be at least 1, got " + maxBatch);
        if (maxDelayMs < 0) throw new IllegalArgumentException("--max-delay-ms must be at least 0, got " + maxDelayMs);
        if (maxBodyBytes < 1) throw new IllegalArgumentException("--max-body-bytes must be at least 1, got " + maxBodyBytes);
        if (maxInflight < 1) throw new IllegalArgumentException("--max-inflight must be at least 1, got " + maxInflight);
        if (readTimeoutSeconds < 1) throw new IllegalArgumentException("--read-timeout-s must be at least 1, got " + readTimeoutSeconds);
        if (maxConnections < 1) throw new IllegalArgumentException("--max-connections must be at least 1, got " + maxConnections);
        if (memoryBudgetBytes < 0) throw new IllegalArgumentException("--memory-budget-bytes must be at least 0, got " + memoryBudgetBytes);
        if (pollSeconds < 0) throw new IllegalArgumentException("--poll-s must be at least 0, got " + pollSeconds);
    }

    /** The settings of earlier versions; connections bounded at 4096, the memory budget a third of the heap, no access log. */
    public ServeOptions(String host, int port, int threads, int maxBatch, int maxDelayMs, long maxBodyBytes, int maxInflight, int readTimeoutSeconds) {
        this(host, port, threads, maxBatch, maxDelayMs, maxBodyBytes, maxInflight, readTimeoutSeconds, 4096, 0, null, 0);
    }

    /** Loopback only, an ephemeral port, batching on: what tests start from. */
    public static ServeOptions defaults() { return new ServeOptions("127.0.0.1", 0, 32, 32, 2, 16L << 20, 64, 30); }

    public ServeOptions withPort(int p) { return new ServeOptions(host, p, threads, maxBatch, maxDelayMs, maxBodyBytes, maxInflight, readTimeoutSeconds, maxConnections, memoryBudgetBytes, accessLog, pollSeconds); }

    public ServeOptions withBatching(int rows, int delayMs) {
        return new ServeOptions(host, port, threads, rows, delayMs, maxBodyBytes, maxInflight, readTimeoutSeconds, maxConnections, memoryBudgetBytes, accessLog, pollSeconds);
    }

    public ServeOptions withMaxBodyBytes(long n) { return new ServeOptions(host, port, threads, maxBatch, maxDelayMs, n, maxInflight, readTimeoutSeconds, maxConnections, memoryBudgetBytes, accessLog, pollSeconds); }

    public ServeOptions withMaxInflight(int n) { return new ServeOptions(host, port, threads, maxBatch, maxDelayMs, maxBodyBytes, n, readTimeoutSeconds, maxConnections, memoryBudgetBytes, accessLog, pollSeconds); }

    public ServeOptions withThreads(int n) { return new ServeOptions(host, port, n, maxBatch, maxDelayMs, maxBodyBytes, maxInflight, readTimeoutSeconds, maxConnections, memoryBudgetBytes, accessLog, pollSeconds); }

    public ServeOptions withReadTimeoutSeconds(int s) { return new ServeOptions(host, port, threads, maxBatch, maxDelayMs, maxBodyBytes, maxInflight, s, maxConnections, memoryBudgetBytes, accessLog, pollSeconds); }

    public ServeOptions withMaxConnections(int n) { return new ServeOptions(host, port, threads, maxBatch, maxDelayMs, maxBodyBytes, maxInflight, readTimeoutSeconds, n, memoryBudgetBytes, accessLog, pollSeconds); }

    public ServeOptions withMemoryBudgetBytes(long n) { return new ServeOptions(host, port, threads, maxBatch, maxDelayMs, maxBodyBytes, maxInflight, readTimeoutSeconds, maxConnections, n, accessLog, pollSeconds); }

    public ServeOptions withAccessLog(String target) { return new ServeOptions(host, port, threads, maxBatch, maxDelayMs, maxBodyBytes, maxInflight, readTimeoutSeconds, maxConnections, memoryBudgetBytes, target, pollSeconds); }

    public ServeOptions withPollSeconds(int s) { return new ServeOptions(host, port, threads, maxBatch, maxDelayMs, maxBodyBytes, maxInflight, readTimeoutSeconds, maxConnections, memoryBudgetBytes, accessLog, s); }
}
