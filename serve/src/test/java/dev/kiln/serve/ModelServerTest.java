package dev.kiln.serve;

import static dev.kiln.serve.ServeFixtures.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.backend.Strided;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ReferenceInterpreter;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.serialization.LoadLimits;
import dev.kiln.serialization.Npy;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every endpoint and every error path of one server, over loopback. */
class ModelServerTest {
    @TempDir
    static Path dir;
    static Graph graph;
    static ModelServer server;

    @BeforeAll
    static void start() throws Exception {
        graph = mlp();
        server = ModelServer.start(artifact(graph, dir), options());
    }

    @AfterAll
    static void stop() {
        server.stop(1);
    }

    static String predictPath() { return "/v1/models/mlp:predict"; }

    @Test
    void healthz() throws Exception {
        HttpResponse<String> r = get(server, "/healthz");
        assertEquals(200, r.statusCode());
        assertEquals("ok", JSON.readTree(r.body()).get("status").asText());
    }

    @Test
    void signatureKeepsSymbolicDims() throws Exception {
        HttpResponse<String> r = get(server, "/v1/models/mlp");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode n = JSON.readTree(r.body());
        assertEquals("mlp", n.get("name").asText());
        assertEquals("1.3", n.get("version").asText());
        assertEquals(1, n.get("opset").asInt());
        assertEquals("[{\"name\":\"x\",\"dtype\":\"f32\",\"shape\":[\"N\",16]}]", n.get("inputs").toString());
        assertEquals("f32", n.get("outputs").get(0).get("dtype").asText());
        assertEquals("[\"N\",10]", n.get("outputs").get(0).get("shape").toString());
        assertEquals(16 * 32 + 32 + 32 * 10 + 10, n.get("parameters").asLong());
        assertEquals(4, n.get("parameter_tensors").asInt());
        assertTrue(n.get("batching").get("enabled").asBoolean(), r.body());
        assertEquals("N", n.get("batching").get("dim").asText());
    }

    @Test
    void predictJsonMatchesTheReferenceAndTheCompiledGraph() throws Exception {
        Strided x = randn(new Random(3), 3, 16);
        HttpResponse<String> r = predict(server, body("x", x));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode outputs = JSON.readTree(r.body()).get("outputs");
        String name = graph.outputNames().get(0);
        float[][] got = matrix(outputs.get(name));
        float[] expected = ReferenceInterpreter.run(graph, List.of(x)).get(0).storage().f32();
        float[] compiled = CompiledGraph.compile(graph, CompileOptions.of(OptLevel.O2)).run(List.of(x)).get(0).storage().f32();
        assertEquals(3, got.length);
        for (int i = 0; i < 3; i++) {
            assertEquals(10, got[i].length);
            for (int j = 0; j < 10; j++) {
                assertEquals(expected[i * 10 + j], got[i][j], 1e-5f);
                assertEquals(Float.floatToIntBits(compiled[i * 10 + j]), Float.floatToIntBits(got[i][j]), "JSON floats round-trip exactly");
            }
        }
    }

    @Test
    void predictNpyInAndOut() throws Exception {
        Strided x = randn(new Random(4), 5, 16);
        ByteArrayOutputStream npy = new ByteArrayOutputStream();
        Npy.write(npy, x);
        HttpRequest req = HttpRequest.newBuilder(URI.create(server.url() + predictPath())).header("Content-Type", "application/x-npy")
                .header("Accept", "application/x-npy").POST(HttpRequest.BodyPublishers.ofByteArray(npy.toByteArray())).build();
        HttpResponse<byte[]> r = CLIENT.send(req, HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode());
        assertEquals("application/x-npy", r.headers().firstValue("Content-Type").orElse(""));
        Strided y = Npy.read(new ByteArrayInputStream(r.body()), r.body().length, LoadLimits.defaults(), "answer");
        assertArrayEquals(new int[] {5, 10}, y.shape());
        assertArrayEquals(CompiledGraph.compile(graph, CompileOptions.of(OptLevel.O2)).run(List.of(x)).get(0).storage().f32(), y.storage().f32());
        assertError(post(server, predictPath(), "application/x-npy", "not npy at all"), 400, "not an .npy file");
    }

    @Test
    void npyBodiesNameTheirInputOnMultiInputModels() throws Exception {
        ModelServer pair = ModelServer.start(artifact(pair(), dir), options());
        try {
            ByteArrayOutputStream npy = new ByteArrayOutputStream();
            Npy.write(npy, randn(new Random(5), 2, 4));
            String path = "/v1/models/pair:predict";
            HttpRequest.Builder req = HttpRequest.newBuilder().header("Content-Type", "application/x-npy").POST(HttpRequest.BodyPublishers.ofByteArray(npy.toByteArray()));
            assertError(CLIENT.send(req.uri(URI.create(pair.url() + path)).build(), HttpResponse.BodyHandlers.ofString()), 400, "needs ?input=NAME for a model with 2 inputs");
            assertError(CLIENT.send(req.uri(URI.create(pair.url() + path + "?input=x")).build(), HttpResponse.BodyHandlers.ofString()), 400, "missing input 'y' (f32[N,4])");
            assertError(CLIENT.send(req.uri(URI.create(pair.url() + path + "?input=z")).build(), HttpResponse.BodyHandlers.ofString()), 400, "no input named 'z'");
            HttpResponse<String> ok = predict(pair, "{\"inputs\": {\"x\": [[1, 2, 3, 4]], \"y\": [[0.5, 0.5, 0.5, 0.5]]}}");
            assertEquals(200, ok.statusCode(), ok.body());
            assertEquals("{\"outputs\":{\"output0\":[[1.5,2.5,3.5,4.5]]}}", ok.body().strip());
        } finally {
            pair.stop(1);
        }
    }

    @Test
    void badRequestsGetOneLineErrors() throws Exception {
        assertError(predict(server, "{\"inputs\": {\"x\": [[1, 2"), 400, "malformed JSON");
        assertError(predict(server, "[1, 2]"), 400, "must be a JSON object");
        assertError(predict(server, "{\"inputs\": {\"x\": [[1]]}, \"extra\": 1}"), 400, "unknown field 'extra'");
        assertError(predict(server, "{\"inputs\": {\"x\": [[1]], \"x\": [[2]]}}"), 400, "malformed JSON: Duplicate field 'x'");
        assertError(predict(server, "{}"), 400, "no \"inputs\" field");
        assertError(predict(server, "{\"inputs\": {}}"), 400, "missing input 'x' (f32[N,16])");
        assertError(predict(server, "{\"inputs\": {\"z\": [[1]]}}"), 400, "the model has no input named 'z' (its inputs: x)");
        assertError(predict(server, "{\"inputs\": {\"x\": [[1, 2], [3]]}}"), 400, "inputs.x: ragged array (dim 1 has lengths 2 and 1)");
        assertError(predict(server, "{\"inputs\": {\"x\": [[1, 2], 3]}}"), 400, "inputs.x: ragged array (a number where an array belongs)");
        assertError(predict(server, "{\"inputs\": {\"x\": [1, [2]]}}"), 400, "inputs.x: ragged array (an array where a number belongs)");
        assertError(predict(server, "{\"inputs\": {\"x\": [[true, false]]}}"), 400, "inputs.x: expected numbers (the input is f32), got a boolean");
        assertError(predict(server, "{\"inputs\": {\"x\": [[\"1\"]]}}"), 400, "got a string");
        assertError(predict(server, "{\"inputs\": {\"x\": [[{}]]}}"), 400, "got an object");
        String deep = "[".repeat(LoadLimits.defaults().maxRank() + 1) + "1" + "]".repeat(LoadLimits.defaults().maxRank() + 1);
        assertError(predict(server, "{\"inputs\": {\"x\": " + deep + "}}"), 400, "nested deeper than the maximum rank");
        assertError(predict(server, body("x", randn(new Random(1), 2, 15))), 400, "input %x must be f32[N,16], got shape [2, 15]");
        assertError(predict(server, "{\"inputs\": {\"x\": [1, 2, 3]}}"), 400, "input %x must be f32[N,16], got shape [3]");
        assertError(post(server, predictPath(), "text/plain", "hello"), 415, "unsupported Content-Type 'text/plain'");
    }

    @Test
    void unknownModelsPathsAndMethods() throws Exception {
        assertError(post(server, "/v1/models/nope:predict", "application/json", "{}"), 404, "no model named 'nope' (this server serves 'mlp')");
        assertError(get(server, "/v1/models/nope"), 404, "no model named 'nope'");
        assertError(get(server, "/v2/anything"), 404, "no endpoint /v2/anything");
        HttpResponse<String> r = get(server, predictPath());
        assertError(r, 405, "method GET is not allowed here (use POST)");
        assertEquals("POST", r.headers().firstValue("Allow").orElse(""));
        assertError(post(server, "/healthz", null, ""), 405, "use GET");
        HttpResponse<String> del = CLIENT.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/models/mlp")).DELETE().build(), HttpResponse.BodyHandlers.ofString());
        assertError(del, 405, "method DELETE is not allowed");
    }

    @Test
    void oversizedBodiesAreRefusedWhileReading() throws Exception {
        ModelServer small = ModelServer.start(artifact(graph, dir), options().withMaxBodyBytes(1024));
        try {
            String big = body("x", randn(new Random(6), 8, 16));
            assertTrue(big.length() > 1024 && big.length() < 4096);
            assertError(predict(small, big), 413, "request body exceeds the limit of 1024 bytes");
            // Without Content-Length (chunked), the limit is found while reading.
            HttpRequest chunked = HttpRequest.newBuilder(URI.create(small.url() + predictPath())).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8)))).build();
            assertError(CLIENT.send(chunked, HttpResponse.BodyHandlers.ofString()), 413, "exceeds the limit of 1024 bytes");
            HttpResponse<String> fits = predict(small, body("x", randn(new Random(6), 1, 16)));
            assertEquals(200, fits.statusCode(), fits.body());
        } finally {
            small.stop(1);
        }
    }

    @Test
    void tooManyRequestsInFlightGet503WithRetryAfter() throws Exception {
        // One admitted request waits 700 ms in the batcher for company; the second finds the server full.
        ModelServer one = ModelServer.start(artifact(graph, dir), options().withMaxInflight(1).withBatching(32, 700));
        try {
            CompletableFuture<HttpResponse<String>> first = CLIENT.sendAsync(HttpRequest.newBuilder(URI.create(one.url() + predictPath()))
                    .POST(HttpRequest.BodyPublishers.ofString(body("x", randn(new Random(7), 1, 16)))).build(), HttpResponse.BodyHandlers.ofString());
            Thread.sleep(250);
            HttpResponse<String> second = predict(one, body("x", randn(new Random(8), 1, 16)));
            assertError(second, 503, "too many requests in flight (--max-inflight 1)");
            assertEquals("1", second.headers().firstValue("Retry-After").orElse(""));
            assertEquals(200, first.get().statusCode(), first.get().body());
            assertEquals(200, predict(one, body("x", randn(new Random(8), 1, 16))).statusCode(), "admitted again once the first is done");
        } finally {
            one.stop(1);
        }
    }

    @Test
    void slowClientsAreCutOffAndTheServerCarriesOn() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(15_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST " + predictPath() + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"inp")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            long t0 = System.nanoTime();
            InputStream in = s.getInputStream();
            // The server closes the connection after the read timeout (2 s, checked about once a second).
            while (in.read() >= 0) { /* whatever precedes the close */ }
            double waited = (System.nanoTime() - t0) / 1e9;
            assertTrue(waited >= 1.0 && waited < 10, "cut off after " + waited + " s");
        } catch (java.net.SocketException reset) {
            // A reset instead of a clean close is a cut-off too.
        }
        assertEquals(200, get(server, "/healthz").statusCode());
        assertEquals(200, predict(server, body("x", randn(new Random(9), 1, 16))).statusCode());
    }

    @Test
    void metricsInPrometheusTextFormat() throws Exception {
        predict(server, body("x", randn(new Random(10), 2, 16)));
        predict(server, "{bad");
        String m = get(server, "/metrics").body();
        for (String s : new String[] {"# TYPE kiln_requests_total counter", "kiln_requests_total{endpoint=\"predict\",status=\"200\"} ",
            "kiln_requests_total{endpoint=\"predict\",status=\"400\"} ", "kiln_request_errors_total{endpoint=\"predict\"} ",
            "# TYPE kiln_request_duration_seconds histogram", "kiln_request_duration_seconds_bucket{endpoint=\"predict\",le=\"0.005\"} ",
            "kiln_request_duration_seconds_bucket{endpoint=\"predict\",le=\"+Inf\"} ", "kiln_request_duration_seconds_count{endpoint=\"predict\"} ",
            "# TYPE kiln_batch_rows histogram", "kiln_batch_rows_bucket{le=\"2\"} ", "kiln_batch_requests_count "}) {
            assertTrue(m.contains(s), "expected '" + s + "' in\n" + m);
        }
        assertTrue(m.lines().allMatch(l -> l.startsWith("# ") || l.matches("[a-z_]+(\\{[^}]*})? [0-9.E+-]+")), m);
    }

    @Test
    void stopDrainsRequestsInFlightThenRefusesConnections() throws Exception {
        ModelServer s = ModelServer.start(artifact(graph, dir), options().withBatching(32, 800));
        Strided x = randn(new Random(12), 2, 16);
        CompletableFuture<HttpResponse<String>> inFlight = CLIENT.sendAsync(HttpRequest.newBuilder(URI.create(s.url() + predictPath()))
                .POST(HttpRequest.BodyPublishers.ofString(body("x", x))).build(), HttpResponse.BodyHandlers.ofString());
        Thread.sleep(250);
        long t0 = System.nanoTime();
        s.stop(10);
        double took = (System.nanoTime() - t0) / 1e9;
        HttpResponse<String> answered = inFlight.get(5, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(200, answered.statusCode(), answered.body());
        assertTrue(took > 0.3 && took < 5, "stop waits for the batch due 800 ms after arrival, not the full 10 s: " + took + " s");
        Exception e = assertThrows(Exception.class, () -> CLIENT.send(HttpRequest.newBuilder(URI.create(s.url() + "/healthz"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()));
        assertTrue(e instanceof ConnectException || e.getCause() instanceof ConnectException || e instanceof java.io.IOException, e.toString());
        assertFalse(e instanceof java.net.http.HttpTimeoutException, "refused, not hung: " + e);
    }
}
