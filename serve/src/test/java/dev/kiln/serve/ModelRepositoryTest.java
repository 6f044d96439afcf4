package dev.kiln.serve;

import static dev.kiln.serve.ServeFixtures.CLIENT;
import static dev.kiln.serve.ServeFixtures.JSON;
import static dev.kiln.serve.ServeFixtures.assertError;
import static dev.kiln.serve.ServeFixtures.get;
import static dev.kiln.serve.ServeFixtures.options;
import static dev.kiln.serve.ServeFixtures.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Value;
import dev.kiln.serialization.KilnReader;
import dev.kiln.serialization.KilnWriter;
import java.io.IOException;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model directory (NAME/VERSION/file): every model and version is served, the highest by
 * default; a reload under traffic adds, replaces and removes versions without a failed request;
 * a broken upload is reported and the old version keeps serving; the access log has a parseable
 * line per request. Version v of model "shift" adds v to its input, so each answer names the
 * version that computed it.
 */
class ModelRepositoryTest {
    @TempDir
    Path dir;

    /** x + v over x: f32[N,4]. */
    static Graph shift(String name, float v) {
        GraphBuilder b = Graph.builder(name);
        Value x = b.addInput("x", new TensorType(DType.FLOAT32, new Dim[] {Dim.symbol("N"), Dim.of(4)}));
        Value bias = b.addParam("bias", TensorType.of(DType.FLOAT32, 4), Strided.contiguous(Storage.wrap(new float[] {v, v, v, v}), new int[] {4}));
        return b.output(b.add(Op.ADD, Attrs.EMPTY, "Shift.java:1", x, bias)).build();
    }

    void put(String name, int version, float v) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name).resolve(Integer.toString(version)));
        KilnWriter.save(shift(name, v), d.resolve("model.kiln.json"));
    }

    static final ModelRepository.Loader LOADER = KilnReader::read;

    /** The first number answered by {@code :predict} on x = 0. */
    static float answer(ModelServer s, String path) throws Exception {
        HttpResponse<String> r = post(s, path, "application/json", "{\"inputs\": {\"x\": [[0, 0, 0, 0]]}}");
        assertEquals(200, r.statusCode(), path + ": " + r.body());
        return (float) JSON.readTree(r.body()).get("outputs").get("output0").get(0).get(0).asDouble();
    }

    @Test
    void everyModelAndVersionIsServedTheHighestByDefault() throws Exception {
        put("shift", 1, 1);
        put("shift", 2, 2);
        put("other", 7, 70);
        ModelServer s = ModelServer.start(dir, LOADER, options(), r -> {});
        try {
            assertEquals(List.of("other", "shift"), s.modelNames());
            JsonNode index = JSON.readTree(get(s, "/v1/models").body());
            assertEquals("shift", index.get("models").get(1).get("name").asText());
            assertEquals("[\"1\",\"2\"]", index.get("models").get(1).get("versions").toString());
            assertEquals(2f, answer(s, "/v1/models/shift:predict"));
            assertEquals(1f, answer(s, "/v1/models/shift/versions/1:predict"));
            assertEquals(70f, answer(s, "/v1/models/other:predict"));
            JsonNode meta = JSON.readTree(get(s, "/v1/models/shift/versions/1").body());
            assertEquals("1", meta.get("model_version").asText());
            // the v2 protocol sees the same versions
            HttpResponse<String> v2 = post(s, "/v2/models/shift/versions/1/infer", "application/json",
                    "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 4], \"datatype\": \"FP32\", \"data\": [0, 0, 0, 0]}]}");
            assertEquals(200, v2.statusCode(), v2.body());
            assertEquals("1", JSON.readTree(v2.body()).get("model_version").asText());
            assertEquals(1.0, JSON.readTree(v2.body()).get("outputs").get(0).get("data").get(0).asDouble());
            assertEquals("[\"1\",\"2\"]", JSON.readTree(get(s, "/v2/models/shift").body()).get("versions").toString());
            assertError(post(s, "/v1/models/shift/versions/3:predict", "application/json", "{}"), 404, "has no version '3' (it has 1, 2)");
            assertError(post(s, "/v1/models/nope:predict", "application/json", "{}"), 404, "this server serves 'other', 'shift'");
            assertError(get(s, "/v2/models/shift/versions/x"), 404, "has no version 'x'");
        } finally {
            s.stop(1);
        }
    }

    @Test
    void reloadingUnderTrafficAddsReplacesAndRemovesVersionsWithoutAFailedRequest() throws Exception {
        put("shift", 1, 1);
        put("shift", 2, 2);
        ModelServer s = ModelServer.start(dir, LOADER, options(), r -> {});
        AtomicBoolean running = new AtomicBoolean(true);
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Float> seen = new ConcurrentLinkedQueue<>();
        List<Thread> clients = new ArrayList<>();
        try {
            for (int c = 0; c < 4; c++) {
                Thread t = new Thread(() -> {
                    while (running.get()) {
                        try {
                            seen.add(answer(s, "/v1/models/shift:predict"));
                        } catch (Throwable e) {
                            failures.add(String.valueOf(e));
                        }
                    }
                });
                t.start();
                clients.add(t);
            }
            Thread.sleep(200);
            put("shift", 3, 3);
            ModelRepository.Report r = s.reload();
            assertEquals(List.of("loaded shift version 3 from shift/3/model.kiln.json"), r.changes(), r.toString());
            assertEquals(3f, answer(s, "/v1/models/shift:predict"));
            Thread.sleep(200);
            // a changed file is a new load of the same version
            Path v3 = dir.resolve("shift/3/model.kiln.json");
            KilnWriter.save(shift("shift", 30), v3);
            Files.setLastModifiedTime(v3, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5000));
            r = s.reload();
            assertEquals(List.of("reloaded shift version 3 from shift/3/model.kiln.json"), r.changes(), r.toString());
            assertEquals(30f, answer(s, "/v1/models/shift:predict"));
            // a broken upload: reported, and what served keeps serving
            Path v4 = Files.createDirectories(dir.resolve("shift/4"));
            Files.writeString(v4.resolve("model.kiln.json"), "{\"format\": \"kiln-graph\", \"version\": \"1.2\", \"graph\": ");
            r = s.reload();
            assertEquals(1, r.problems().size(), r.toString());
            assertTrue(r.problems().get(0).startsWith("shift/4: "), r.problems().get(0));
            assertEquals(30f, answer(s, "/v1/models/shift:predict"));
            Thread.sleep(200);
            // removal: the versions go; requests already running on them finish
            deleteTree(dir.resolve("shift/4"));
            deleteTree(dir.resolve("shift/3"));
            r = s.reload();
            assertEquals(List.of("removed shift version 3"), r.changes(), r.toString());
            assertEquals(2f, answer(s, "/v1/models/shift:predict"));
            Thread.sleep(200);
        } finally {
            running.set(false);
            for (Thread t : clients) t.join();
            s.stop(1);
        }
        assertTrue(failures.isEmpty(), failures.size() + " requests failed during reloads, e.g. " + failures.peek());
        assertTrue(seen.size() > 20, "only " + seen.size() + " requests ran");
        for (float v : seen) assertTrue(v == 2f || v == 3f || v == 30f, "an answer from no served version: " + v);
    }

    @Test
    void aProblemInTheDirectoryFailsTheStartNamingIt() throws Exception {
        put("shift", 1, 1);
        Files.createDirectories(dir.resolve("shift/latest"));
        Files.createDirectories(dir.resolve("empty/1"));
        IOException e = assertThrows(IOException.class, () -> ModelServer.start(dir, LOADER, options(), r -> {}));
        assertTrue(e.getMessage().contains("shift/latest: expected a version folder named by a positive integer"), e.getMessage());
        assertTrue(e.getMessage().contains("empty/1: holds no model file"), e.getMessage());
        Path none = Files.createDirectories(dir.resolve("none"));
        e = assertThrows(IOException.class, () -> ModelServer.start(none, LOADER, options(), r -> {}));
        assertTrue(e.getMessage().contains("no models in"), e.getMessage());
    }

    @Test
    void theAccessLogHasOneJsonLinePerRequest() throws Exception {
        put("shift", 1, 1);
        Path log = dir.resolveSibling(dir.getFileName() + "-access.log");
        ModelServer s = ModelServer.start(dir, LOADER, options().withAccessLog(log.toString()), r -> {});
        try {
            answer(s, "/v1/models/shift:predict");
            get(s, "/v1/models/nope%22%1b");
            try (Socket k = new Socket("127.0.0.1", s.port())) { // refused at the head by the transport
                k.getOutputStream().write("POST /v1/models/shift:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                assertTrue(new String(k.getInputStream().readAllBytes(), StandardCharsets.UTF_8).startsWith("HTTP/1.1 413"));
            }
        } finally {
            s.stop(1);
        }
        List<String> lines = Files.readAllLines(log);
        assertEquals(3, lines.size(), String.join("\n", lines));
        JsonNode ok = JSON.readTree(lines.get(0)), missing = JSON.readTree(lines.get(1)), big = JSON.readTree(lines.get(2));
        assertEquals("POST", ok.get("method").asText());
        assertEquals("/v1/models/shift:predict", ok.get("uri").asText());
        assertEquals(200, ok.get("status").asInt());
        assertEquals("shift", ok.get("model").asText());
        assertEquals("1", ok.get("version").asText());
        assertTrue(ok.get("bytes_in").asLong() > 10 && ok.get("bytes_out").asLong() > 10 && ok.get("ms").asDouble() >= 0, lines.get(0));
        assertTrue(ok.get("remote").asText().startsWith("127.0.0.1:"), lines.get(0));
        assertEquals(404, missing.get("status").asInt());
        assertEquals("/v1/models/nope%22%1b", missing.get("uri").asText());
        assertTrue(missing.get("model") == null);
        assertEquals(413, big.get("status").asInt());
        for (String l : lines) for (char c : l.toCharArray()) assertTrue(c >= 0x20 && c != 0x7f, "a raw control character in " + l);
    }

    @Test
    void aRequestAfterStopGets503InsteadOfWaitingForAReplacement() throws Exception {
        put("shift", 1, 1);
        ModelRepository r = ModelRepository.open(dir, LOADER, options(), new Metrics());
        r.close();
        long t0 = System.nanoTime();
        ApiException e = assertThrows(ApiException.class, () -> r.acquire("shift", null));
        assertEquals(503, e.status);
        assertTrue(System.nanoTime() - t0 < 1_000_000_000L, "answered at once");
    }

    static void deleteTree(Path p) throws IOException {
        try (var s = Files.walk(p)) {
            for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }
}
