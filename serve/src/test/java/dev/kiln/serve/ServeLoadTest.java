package dev.kiln.serve;

import static dev.kiln.serve.ServeFixtures.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.Strided;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ReferenceInterpreter;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.serialization.Artifact;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bounded load on loopback: 16 concurrent clients, 1,000 requests per configuration (the first
 * 100 warm the JIT and are not timed), with dynamic batching and without. Every answer is checked
 * against the reference interpreter and, bit for bit, against the compiled graph run on that
 * request alone. Throughput and p50/p99 latency are printed; clients and server share the cores,
 * so the figures are for comparing the two configurations, not absolute capacity.
 */
class ServeLoadTest {
    static final int CLIENTS = 16;
    static final int REQUESTS = 1000;
    static final int WARMUP = 100;

    @TempDir
    Path dir;

    record Case(Strided x, String body, float[] reference, float[] alone) {}

    @Test
    void loadWithAndWithoutBatching() throws Exception {
        Graph g = mlp();
        Artifact a = artifact(g, dir);
        CompiledGraph compiled = CompiledGraph.compile(a.graph(), CompileOptions.of(OptLevel.O2));
        Random r = new Random(31);
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            Strided x = randn(r, 1 + (i % 4 == 0 ? 1 : 0), 16);
            cases.add(new Case(x, body("x", x), ReferenceInterpreter.run(g, List.of(x)).get(0).storage().f32(), compiled.run(List.of(x)).get(0).storage().f32()));
        }
        ModelServer on = ModelServer.start(a, options().withBatching(32, 2));
        ModelServer off = ModelServer.start(a, options().withBatching(1, 0));
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        try {
            // Both servers warm up before either is timed, so neither pays the JIT for the other.
            long[][] latency = new long[2][REQUESTS];
            long[][] startedAt = new long[2][REQUESTS];
            load(on, a, cases, clients, 0, WARMUP, latency[0], startedAt[0]);
            load(off, a, cases, clients, 0, WARMUP, latency[1], startedAt[1]);
            load(on, a, cases, clients, WARMUP, REQUESTS, latency[0], startedAt[0]);
            load(off, a, cases, clients, WARMUP, REQUESTS, latency[1], startedAt[1]);
            System.out.println(report(on, true, latency[0], startedAt[0]));
            System.out.println(report(off, false, latency[1], startedAt[1]));
        } finally {
            clients.shutdownNow();
            on.stop(1);
            off.stop(1);
        }
    }

    /** Requests {@code from..to} from {@link #CLIENTS} concurrent clients, each answer checked. */
    private static void load(ModelServer s, Artifact a, List<Case> cases, ExecutorService clients, int from, int to, long[] latency, long[] startedAt)
            throws Exception {
        String name = a.graph().outputNames().get(0);
        URI uri = URI.create(s.url() + "/v1/models/mlp:predict");
        AtomicInteger next = new AtomicInteger(from);
        List<Future<?>> work = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            work.add(clients.submit(() -> {
                for (int i = next.getAndIncrement(); i < to; i = next.getAndIncrement()) {
                    Case k = cases.get(i % cases.size());
                    long t0 = System.nanoTime();
                    HttpResponse<String> resp = CLIENT.send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(k.body())).build(), HttpResponse.BodyHandlers.ofString());
                    latency[i] = System.nanoTime() - t0;
                    startedAt[i] = t0;
                    assertEquals(200, resp.statusCode(), resp.body());
                    float[][] y = matrix(JSON.readTree(resp.body()).get("outputs").get(name));
                    for (int row = 0; row < y.length; row++) {
                        for (int col = 0; col < 10; col++) {
                            int at = row * 10 + col;
                            assertEquals(k.reference()[at], y[row][col], 1e-5f, "request " + i + " vs the reference interpreter");
                            assertEquals(Float.floatToIntBits(k.alone()[at]), Float.floatToIntBits(y[row][col]), "request " + i + " vs its own run, bit for bit");
                        }
                    }
                    assertEquals(k.x().shape()[0], y.length);
                }
                return null;
            }));
        }
        for (Future<?> f : work) f.get();
    }

    private static String report(ModelServer s, boolean batching, long[] latency, long[] startedAt) throws Exception {
        // Timed window: from the first timed request's start to the last answer.
        long first = Long.MAX_VALUE, last = 0;
        for (int i = WARMUP; i < REQUESTS; i++) {
            first = Math.min(first, startedAt[i]);
            last = Math.max(last, startedAt[i] + latency[i]);
        }
        long[] timed = Arrays.copyOfRange(latency, WARMUP, REQUESTS);
        Arrays.sort(timed);
        double seconds = (last - first) / 1e9;
        String metrics = get(s, "/metrics").body();
        double runs = BatchingTest.metric(metrics, "kiln_batch_requests_count");
        double meanRequests = REQUESTS / runs;
        if (batching) assertTrue(meanRequests > 1.0, "16 concurrent clients get batched: " + meanRequests + " requests per run");
        else assertEquals(REQUESTS, runs, "without batching every request is its own run");
        return String.format("serve load, batching %-33s %d clients, %d timed requests: %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  (%.2f requests per model run)",
                batching ? "on (max-batch 32, max-delay 2 ms):" : "off:", CLIENTS, timed.length, timed.length / seconds,
                pct(timed, 50) / 1e6, pct(timed, 99) / 1e6, meanRequests);
    }

    /** Nearest-rank percentile of sorted values. */
    static long pct(long[] sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }
}
