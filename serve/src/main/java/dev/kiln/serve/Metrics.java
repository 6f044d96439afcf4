package dev.kiln.serve;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** The server's counters in Prometheus text format (version 0.0.4), served at {@code GET /metrics}. */
final class Metrics {
    private static final double[] LATENCY_BOUNDS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    private static final double[] BATCH_BOUNDS = {1, 2, 4, 8, 16, 32, 64, 128, 256};

    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final Map<String, Histogram> latency = new ConcurrentHashMap<>();
    private final Histogram batchRows = new Histogram(BATCH_BOUNDS);
    private final Histogram batchRequests = new Histogram(BATCH_BOUNDS);
    /** Bytes reserved in the memory budget now (set by the server). */
    volatile java.util.function.LongSupplier budgetUsed = () -> 0;

    /** One answered request; {@code endpoint} is a fixed route name (never the raw path, so series stay bounded). */
    void request(String endpoint, int status, long nanos) {
        requests.computeIfAbsent("endpoint=\"" + endpoint + "\",status=\"" + status + "\"", k -> new LongAdder()).increment();
        if (status >= 400) errors.computeIfAbsent("endpoint=\"" + endpoint + "\"", k -> new LongAdder()).increment();
        latency.computeIfAbsent("endpoint=\"" + endpoint + "\"", k -> new Histogram(LATENCY_BOUNDS)).observe(nanos / 1e9);
    }

    /** One model run of {@code rows} rows gathered from {@code requests} requests. */
    void batch(int rows, int requests) {
        batchRows.observe(rows);
        batchRequests.observe(requests);
    }

    String text() {
        StringBuilder out = new StringBuilder();
        counter(out, "kiln_requests_total", "HTTP requests answered, by endpoint and status code.", requests);
        counter(out, "kiln_request_errors_total", "HTTP requests answered with status 400 or above, by endpoint.", errors);
        out.append("# HELP kiln_request_duration_seconds Time from receiving a request to sending its answer.\n");
        out.append("# TYPE kiln_request_duration_seconds histogram\n");
        new TreeMap<>(latency).forEach((labels, h) -> h.write(out, "kiln_request_duration_seconds", labels));
        out.append("# HELP kiln_batch_rows Rows per model run (a dynamic batch, or one request when batching is off).\n");
        out.append("# TYPE kiln_batch_rows histogram\n");
        batchRows.write(out, "kiln_batch_rows", "");
        out.append("# HELP kiln_batch_requests Requests per model run.\n");
        out.append("# TYPE kiln_batch_requests histogram\n");
        batchRequests.write(out, "kiln_batch_requests", "");
        Runtime rt = Runtime.getRuntime();
        gauge(out, "kiln_memory_budget_used_bytes", "Bytes requests in flight hold in the memory budget.", budgetUsed.getAsLong());
        gauge(out, "kiln_jvm_heap_used_bytes", "Heap in use (total minus free), garbage not yet collected included.", rt.totalMemory() - rt.freeMemory());
        gauge(out, "kiln_jvm_heap_max_bytes", "The heap's limit (-Xmx).", rt.maxMemory());
        return out.toString();
    }

    private static void gauge(StringBuilder out, String name, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n");
        out.append(name).append(' ').append(value).append('\n');
    }

    private static void counter(StringBuilder out, String name, String help, Map<String, LongAdder> series) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" counter\n");
        new TreeMap<>(series).forEach((labels, n) -> out.append(name).append('{').append(labels).append("} ").append(n.sum()).append('\n'));
    }
}
