package dev.kiln.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-op time on the GPU, for finding where an eager step's time goes: with
 * {@code -Dkiln.cuda.profile=true} the executor synchronizes before and after every op and adds
 * the wall time between (launch overhead plus kernel time) to the op's row; the table is
 * printed to stderr when the JVM exits. Synchronizing serializes the queue, so profiled runs
 * are slower than plain ones: compare rows with each other, not with unprofiled timings.
 */
final class CudaOpProfile {
    static final boolean ENABLED = Boolean.getBoolean("kiln.cuda.profile");

    private static final Map<String, long[]> ROWS = new ConcurrentHashMap<>();

    static {
        if (ENABLED) Runtime.getRuntime().addShutdownHook(new Thread(() -> System.err.print(table()), "kiln-cuda-profile"));
    }

    private CudaOpProfile() {}

    /** Runs work between two synchronizations and adds the wall time to row {@code op}. */
    static <T> T time(CudaBackend gpu, String op, java.util.function.Supplier<T> work) {
        gpu.synchronize();
        long start = System.nanoTime();
        T result = work.get();
        gpu.synchronize();
        add(op, System.nanoTime() - start);
        return result;
    }

    private static void add(String op, long nanos) {
        long[] row = ROWS.computeIfAbsent(op, k -> new long[2]);
        synchronized (row) {
            row[0]++;
            row[1] += nanos;
        }
    }

    /** Ops by total time: calls, total ms, mean µs. */
    static String table() {
        List<Map.Entry<String, long[]>> rows = new ArrayList<>(ROWS.entrySet());
        rows.sort((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]));
        StringBuilder sb = new StringBuilder(String.format("%-24s %10s %12s %10s%n", "op (kiln.cuda.profile)", "calls", "total_ms", "mean_us"));
        for (Map.Entry<String, long[]> e : rows) {
            long[] r = e.getValue();
            sb.append(String.format("%-24s %10d %12.2f %10.1f%n", e.getKey(), r[0], r[1] / 1e6, r[1] / 1e3 / r[0]));
        }
        return sb.toString();
    }
}
