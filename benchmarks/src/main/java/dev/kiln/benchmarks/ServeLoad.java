package dev.kiln.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Load against {@code kiln serve} as users would put it: the server in its own process
 * ({@code bin/kiln serve}), 16, 64 and 256 concurrent clients on loopback, batching on and off,
 * then the same beside a slowloris flood, then a soak that samples the server's memory. Prints
 * markdown tables (docs/serving.md, "Measurements under load").
 *
 * <pre>
 * java -cp benchmarks/target/classes dev.kiln.benchmarks.ServeLoad [--seconds 15] [--soak-seconds 300] MODEL.kiln.json ...
 * </pre>
 *
 * Each request is one row: symbolic dim 0 is 1, any other symbolic dim 64; float inputs are
 * random, integer inputs 0 (a valid token id). Clients and server share the machine's cores.
 */
public final class ServeLoad {
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

    private ServeLoad() {}

    public static void main(String[] args) throws Exception {
        int seconds = 15, soak = 300;
        List<Path> models = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--soak-seconds" -> soak = Integer.parseInt(args[++i]);
                default -> models.add(Path.of(args[i]));
            }
        }
        System.out.println("| model | batching | clients | flood | throughput (req/s) | p50 (ms) | p99 (ms) | errors |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        for (Path model : models) {
            for (boolean batching : new boolean[] {true, false}) {
                try (Server s = Server.start(model, batching)) {
                    String body = body(s);
                    run(s, body, 16, 5, 0); // warm-up: the JIT, the batcher's first shapes
                    for (int clients : new int[] {16, 64, 256}) print(model, batching, clients, 0, run(s, body, clients, seconds, 0));
                    print(model, batching, 64, 300, run(s, body, 64, seconds, 300));
                }
            }
        }
        if (soak > 0 && !models.isEmpty()) soak(models.get(0), soak);
    }

    private static void print(Path model, boolean batching, int clients, int flood, Result r) {
        System.out.printf("| %s | %s | %d | %s | %.0f | %.2f | %.2f | %d |%n", model.getFileName(), batching ? "on" : "off", clients,
                flood == 0 ? "-" : flood + " slow connections", r.throughput, r.p50, r.p99, r.errors);
    }

    /** The server in its own JVM, as {@code bin/kiln serve} starts it. */
    record Server(Process process, String url, String name) implements AutoCloseable {
        static Server start(Path model, boolean batching) throws IOException, InterruptedException {
            Path log = Files.createTempFile("kiln-serve-load", ".log");
            Process p = new ProcessBuilder("bin/kiln", "serve", model.toString(), "--port", "0", "--threads", "64", "--max-inflight", "512",
                    "--max-batch", batching ? "32" : "1", "--read-timeout-s", "5").redirectErrorStream(true).redirectOutput(log.toFile()).start();
            long deadline = System.nanoTime() + 120_000_000_000L;
            Pattern at = Pattern.compile("serving (\\S+) at (http://[0-9.:]+)/");
            while (System.nanoTime() < deadline && p.isAlive()) {
                Matcher m = at.matcher(Files.readString(log));
                if (m.find()) return new Server(p, m.group(2), m.group(1));
                Thread.sleep(100);
            }
            p.destroyForcibly();
            throw new IOException("kiln serve did not start: " + Files.readString(log));
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            process.waitFor();
        }
    }

    /** A one-row request from the model's signature. */
    static String body(Server s) throws IOException, InterruptedException {
        String sig = get(s.url + "/v1/models/" + s.name);
        StringBuilder b = new StringBuilder("{\"inputs\": {");
        Matcher in = Pattern.compile("\\{\"name\":\"([^\"]+)\",\"dtype\":\"(\\w+)\",\"shape\":\\[([^\\]]*)\\]}").matcher(sig.substring(sig.indexOf("\"inputs\""), sig.indexOf("\"outputs\"")));
        Random r = new Random(1);
        boolean first = true;
        while (in.find()) {
            String[] dims = in.group(3).isEmpty() ? new String[0] : in.group(3).split(",");
            int[] shape = new int[dims.length];
            for (int i = 0; i < dims.length; i++) shape[i] = dims[i].startsWith("\"") ? (i == 0 ? 1 : 64) : Integer.parseInt(dims[i]);
            b.append(first ? "" : ", ").append('"').append(in.group(1)).append("\": ");
            nested(b, shape, 0, in.group(2).startsWith("f") ? r : null);
            first = false;
        }
        return b.append("}}").toString();
    }

    private static void nested(StringBuilder b, int[] shape, int d, Random r) {
        if (d == shape.length) {
            b.append(r == null ? "0" : Float.toString((float) r.nextGaussian()));
            return;
        }
        b.append('[');
        for (int i = 0; i < shape[d]; i++) {
            if (i > 0) b.append(',');
            nested(b, shape, d + 1, r);
        }
        b.append(']');
    }

    static String get(String url) throws IOException, InterruptedException {
        return CLIENT.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    record Result(double throughput, double p50, double p99, long errors) {}

    /** {@code clients} threads sending without pause for {@code seconds}; {@code flood} slow connections alongside. */
    static Result run(Server s, String body, int clients, int seconds, int flood) throws InterruptedException {
        AtomicBoolean running = new AtomicBoolean(true);
        Thread flooder = flood > 0 ? new Thread(() -> slowloris(s, flood, running), "flood") : null;
        if (flooder != null) {
            flooder.start();
            Thread.sleep(1000); // the flood is in place before timing starts
        }
        HttpRequest req = HttpRequest.newBuilder(URI.create(s.url + "/v1/models/" + s.name + ":predict")).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        List<long[]> latencies = new ArrayList<>();
        int[] counts = new int[clients];
        LongAdder errors = new LongAdder();
        Map<String, LongAdder> errorKinds = new ConcurrentHashMap<>();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            long[] mine = new long[1 << 16];
            latencies.add(mine);
            int id = c;
            Thread t = new Thread(() -> {
                while (System.nanoTime() < end) {
                    long t0 = System.nanoTime();
                    try {
                        HttpResponse<String> r = CLIENT.send(req, HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() != 200) {
                            errors.increment();
                            errorKinds.computeIfAbsent(Integer.toString(r.statusCode()), k -> new LongAdder()).increment();
                            continue;
                        }
                    } catch (IOException | InterruptedException e) {
                        errors.increment();
                        errorKinds.computeIfAbsent(e.getClass().getSimpleName(), k -> new LongAdder()).increment();
                        continue;
                    }
                    if (counts[id] < mine.length) mine[counts[id]++] = System.nanoTime() - t0;
                }
            });
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) t.join();
        running.set(false);
        if (flooder != null) flooder.join();
        int n = 0;
        for (int c : counts) n += c;
        long[] all = new long[n];
        int k = 0;
        for (int c = 0; c < clients; c++) {
            System.arraycopy(latencies.get(c), 0, all, k, counts[c]);
            k += counts[c];
        }
        Arrays.sort(all);
        if (!errorKinds.isEmpty()) System.err.println("errors at " + clients + " clients: " + new TreeMap<>(errorKinds));
        double p50 = n == 0 ? Double.NaN : all[n / 2] / 1e6, p99 = n == 0 ? Double.NaN : all[Math.min(n - 1, (int) (n * 0.99))] / 1e6;
        return new Result(n / (double) seconds, p50, p99, errors.sum());
    }

    /** Keeps {@code count} connections open that send part of a request and stall; reopens those the server closes. */
    static void slowloris(Server s, int count, AtomicBoolean running) {
        URI u = URI.create(s.url);
        List<Socket> open = new ArrayList<>();
        try {
            while (running.get()) {
                open.removeIf(Socket::isClosed);
                for (int i = 0; i < open.size(); i++) {
                    Socket k = open.get(i);
                    try {
                        k.getOutputStream().write('a'); // trickle: a header byte, or a body byte short of the promise
                        k.getOutputStream().flush();
                    } catch (IOException e) {
                        closeQuietly(k);
                    }
                }
                while (open.size() < count && running.get()) {
                    Socket k = new Socket(u.getHost(), u.getPort());
                    OutputStream o = k.getOutputStream();
                    String head = open.size() % 2 == 0
                            ? "POST /v1/models/" + s.name + ":predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
                            : "POST /v1/models/" + s.name + ":predict HTTP/1.1\r\nHost: x\r\nX-Slow: ";
                    o.write(head.getBytes(StandardCharsets.US_ASCII));
                    o.flush();
                    open.add(k);
                }
                Thread.sleep(500);
            }
        } catch (IOException | InterruptedException e) {
            System.err.println("flood: " + e);
        } finally {
            for (Socket k : open) closeQuietly(k);
        }
    }

    private static void closeQuietly(Socket k) {
        try {
            k.close();
        } catch (IOException ignored) {
            // closing a socket the server already reset
        }
    }

    /** 64 clients with batching on for {@code seconds}; the server's resident memory and heap every 10 s. */
    static void soak(Path model, int seconds) throws Exception {
        System.out.println();
        System.out.println("| soak time (s) | requests so far | server RSS (MiB) | heap used (MiB) | budget reserved (bytes) |");
        System.out.println("|---|---|---|---|---|");
        try (Server s = Server.start(model, true)) {
            String body = body(s);
            long[] total = {0};
            for (int t = 0; t < seconds; t += 10) {
                Result r = run(s, body, 64, 10, 0);
                total[0] += Math.round(r.throughput * 10);
                String metrics = get(s.url + "/metrics");
                System.out.printf("| %d | %d | %.0f | %.0f | %s |%n", t + 10, total[0], rssKib(s.process.pid()) / 1024.0,
                        gauge(metrics, "kiln_jvm_heap_used_bytes") / 1048576.0, (long) gauge(metrics, "kiln_memory_budget_used_bytes"));
            }
        }
    }

    static double gauge(String metrics, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + " (\\S+)$").matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    static long rssKib(long pid) throws IOException {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(Files.newInputStream(Path.of("/proc/" + pid + "/status")), StandardCharsets.US_ASCII))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
