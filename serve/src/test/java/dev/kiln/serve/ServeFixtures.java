package dev.kiln.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import dev.kiln.serialization.Artifact;
import dev.kiln.serialization.KilnReader;
import dev.kiln.serialization.KilnWriter;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

/** Test models saved and loaded as artifacts, and a loopback HTTP client. */
final class ServeFixtures {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    private ServeFixtures() {}

    /**
     * Loopback, ephemeral port, 2 s read timeout. The timeout is JVM-wide (the first server sets
     * it), so every test uses the same one.
     */
    static ServeOptions options() { return ServeOptions.defaults().withReadTimeoutSeconds(2); }

    static Strided randn(Random r, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return Strided.contiguous(Storage.wrap(a), shape);
    }

    /** log_softmax(relu(x @ w1 + b1) @ w2 + b2) over x: f32[N,16]; 874 parameter values. */
    static Graph mlp() {
        Random r = new Random(11);
        GraphBuilder b = Graph.builder("mlp");
        Value x = b.addInput("x", new TensorType(DType.FLOAT32, new Dim[] {Dim.symbol("N"), Dim.of(16)}));
        Value w1 = b.addParam("fc1.weight", TensorType.of(DType.FLOAT32, 16, 32), randn(r, 16, 32));
        Value b1 = b.addParam("fc1.bias", TensorType.of(DType.FLOAT32, 32), randn(r, 32));
        Value w2 = b.addParam("fc2.weight", TensorType.of(DType.FLOAT32, 32, 10), randn(r, 32, 10));
        Value b2 = b.addParam("fc2.bias", TensorType.of(DType.FLOAT32, 10), randn(r, 10));
        Value h = b.add(Op.RELU, Attrs.EMPTY, "Mlp.java:1", b.add(Op.ADDMM, Attrs.EMPTY, "Mlp.java:1", b1, x, w1));
        Value logits = b.add(Op.ADDMM, Attrs.EMPTY, "Mlp.java:2", b2, h, w2);
        return b.output(b.add(Op.LOG_SOFTMAX, Attrs.of("dim", 1), "Mlp.java:3", logits)).build();
    }

    /** x + y over two f32[N,4] inputs: for .npy bodies that must name their input. */
    static Graph pair() {
        GraphBuilder b = Graph.builder("pair");
        TensorType t = new TensorType(DType.FLOAT32, new Dim[] {Dim.symbol("N"), Dim.of(4)});
        Value x = b.addInput("x", t);
        Value y = b.addInput("y", t);
        return b.output(b.add(Op.ADD, Attrs.EMPTY, "Pair.java:1", x, y)).build();
    }

    /** x - sum(x over dim 0): every row depends on the others, so batching would change answers. */
    static Graph rowMixing() {
        GraphBuilder b = Graph.builder("centered");
        Value x = b.addInput("x", new TensorType(DType.FLOAT32, new Dim[] {Dim.symbol("N"), Dim.of(4)}));
        Value s = b.add(Op.SUM, Attrs.of("dims", new int[] {0}, "keepdim", true), "Mix.java:1", x);
        return b.output(b.add(Op.SUB, Attrs.EMPTY, "Mix.java:2", x, s)).build();
    }

    /** Saves {@code g} as a JSON artifact and loads it back, as {@code kiln serve} would. */
    static Artifact artifact(Graph g, Path dir) throws IOException {
        Path file = dir.resolve(g.name() + ".kiln.json");
        KilnWriter.save(g, file);
        return KilnReader.read(file);
    }

    /** {@code {"inputs": {"x": [[...], ...]}}} for a 2-D f32 tensor; floats print in their shortest exact form. */
    static String body(String name, Strided x) {
        StringBuilder s = new StringBuilder("{\"inputs\": {\"" + name + "\": [");
        float[] a = x.storage().f32();
        int cols = x.shape()[1];
        for (int i = 0; i < x.shape()[0]; i++) {
            s.append(i == 0 ? "[" : ", [");
            for (int j = 0; j < cols; j++) s.append(j == 0 ? "" : ", ").append(a[x.offset() + i * cols + j]);
            s.append(']');
        }
        return s.append("]}}").toString();
    }

    /** A 2-D f32 array from JSON nested arrays. */
    static float[][] matrix(JsonNode n) {
        float[][] m = new float[n.size()][];
        for (int i = 0; i < m.length; i++) {
            m[i] = new float[n.get(i).size()];
            for (int j = 0; j < m[i].length; j++) m[i][j] = Float.parseFloat(n.get(i).get(j).asText());
        }
        return m;
    }

    static HttpResponse<String> post(ModelServer s, String path, String contentType, String body) throws IOException, InterruptedException {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(s.url() + path)).timeout(Duration.ofSeconds(20)).POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) r.header("Content-Type", contentType);
        return CLIENT.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> predict(ModelServer s, String body) throws IOException, InterruptedException {
        return post(s, "/v1/models/" + s.modelName() + ":predict", "application/json", body);
    }

    static HttpResponse<String> get(ModelServer s, String path) throws IOException, InterruptedException {
        return CLIENT.send(HttpRequest.newBuilder(URI.create(s.url() + path)).timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The answer is {@code status} with exactly one line of JSON, {@code {"error": "..."}}, containing {@code fragment}. */
    static void assertError(HttpResponse<String> r, int status, String fragment) throws IOException {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
        assertEquals(1, r.body().lines().count(), r.body());
        JsonNode n = JSON.readTree(r.body());
        assertEquals(1, n.size(), r.body());
        assertTrue(n.get("error").asText().contains(fragment), "expected '" + fragment + "' in " + r.body());
    }
}
