package dev.kiln.serve;

import static dev.kiln.serve.ServeFixtures.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Value;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Dynamic batching: which models qualify, and that batched answers equal, bit for bit, those of requests run alone. */
class BatchingTest {
    @TempDir
    Path dir;

    @Test
    void batchedRequestsGetTheBitsTheyWouldGetAlone() throws Exception {
        ServedModel model = new ServedModel(artifact(mlp(), dir));
        assertEquals("N", model.batchSymbol);
        Metrics metrics = new Metrics();
        List<Strided> inputs = new ArrayList<>();
        Random r = new Random(21);
        for (int i = 0; i < 24; i++) inputs.add(randn(r, 1 + r.nextInt(3), 16));
        List<CompletableFuture<List<Strided>>> results = new ArrayList<>();
        try (DynamicBatcher batcher = new DynamicBatcher(model, metrics, 32, 50)) {
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < inputs.size(); i++) results.add(new CompletableFuture<>());
            for (int i = 0; i < inputs.size(); i++) {
                int k = i;
                Thread t = new Thread(() -> {
                    try {
                        go.await();
                        batcher.submit(List.of(inputs.get(k))).whenComplete((v, e) -> {
                            if (e != null) results.get(k).completeExceptionally(e);
                            else results.get(k).complete(v);
                        });
                    } catch (InterruptedException e) {
                        results.get(k).completeExceptionally(e);
                    }
                });
                t.start();
                threads.add(t);
            }
            go.countDown();
            for (Thread t : threads) t.join();
            for (int i = 0; i < inputs.size(); i++) {
                Strided batched = results.get(i).get().get(0);
                Strided alone = model.run(List.of(inputs.get(i))).get(0);
                assertTrue(ServedModel.sameBits(alone, batched), "request " + i + " differs when batched");
            }
        }
        long single = metric(metrics.text(), "kiln_batch_requests_bucket\\{le=\"1\"}");
        long runs = metric(metrics.text(), "kiln_batch_requests_count");
        assertTrue(runs < inputs.size() && single < runs, "some runs gathered several requests: " + runs + " runs, " + single + " alone");
        long maxRows = metric(metrics.text(), "kiln_batch_rows_bucket\\{le=\"32\"}");
        assertEquals(runs, maxRows, "no batch exceeds --max-batch rows");
    }

    @Test
    void requestsWithOtherInnerShapesAreNotMixed() throws Exception {
        GraphBuilder b = Graph.builder("seq");
        Value x = b.addInput("x", new TensorType(DType.FLOAT32, new Dim[] {Dim.symbol("N"), Dim.symbol("T")}));
        Graph g = b.output(b.add(Op.RELU, Attrs.EMPTY, "Seq.java:1", x)).build();
        ServeOptions options = options().withBatching(32, 50);
        ModelServer s = ModelServer.start(artifact(g, dir), options);
        try {
            List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
            List<Strided> inputs = new ArrayList<>();
            Random r = new Random(22);
            for (int i = 0; i < 12; i++) {
                Strided in = randn(r, 1 + i % 2, i % 3 == 0 ? 3 : 5);
                inputs.add(in);
                answers.add(CLIENT.sendAsync(HttpRequest.newBuilder(URI.create(s.url() + "/v1/models/seq:predict"))
                        .POST(HttpRequest.BodyPublishers.ofString(body("x", in))).build(), HttpResponse.BodyHandlers.ofString()));
            }
            for (int i = 0; i < answers.size(); i++) {
                HttpResponse<String> a = answers.get(i).get();
                assertEquals(200, a.statusCode(), a.body());
                float[][] y = matrix(JSON.readTree(a.body()).get("outputs").get("output0"));
                Strided in = inputs.get(i);
                assertEquals(in.shape()[0], y.length);
                for (int row = 0; row < y.length; row++) {
                    for (int c = 0; c < in.shape()[1]; c++) assertEquals(Math.max(0f, in.storage().f32()[row * in.shape()[1] + c]), y[row][c]);
                }
            }
        } finally {
            s.stop(1);
        }
    }

    @Test
    void onlyRowIndependentModelsWithOneBatchSymbolAreBatched() throws Exception {
        ServedModel mixing = new ServedModel(artifact(rowMixing(), dir));
        assertNull(mixing.batchSymbol);
        assertTrue(mixing.unbatchableReason.contains("differs from the outputs of its rows run alone"), mixing.unbatchableReason);

        GraphBuilder b = Graph.builder("fixed");
        Value x = b.addInput("x", TensorType.of(DType.FLOAT32, 2, 4));
        ServedModel fixed = new ServedModel(artifact(b.output(b.add(Op.RELU, Attrs.EMPTY, "F.java:1", x)).build(), dir));
        assertNull(fixed.batchSymbol);
        assertTrue(fixed.unbatchableReason.contains("not one shared symbol"), fixed.unbatchableReason);

        assertEquals("N", new ServedModel(artifact(pair(), dir)).batchSymbol);

        ModelServer s = ModelServer.start(artifact(rowMixing(), dir), options());
        try {
            String sig = get(s, "/v1/models/centered").body();
            assertTrue(sig.contains("\"batching\":{\"enabled\":false,\"reason\":\"output output0 of a batch differs"), sig);
            HttpResponse<String> r = predict(s, "{\"inputs\": {\"x\": [[1, 2, 3, 4], [1, 1, 1, 1]]}}");
            assertEquals("{\"outputs\":{\"output0\":[[-1.0,-1.0,-1.0,-1.0],[-1.0,-2.0,-3.0,-4.0]]}}", r.body().strip());
        } finally {
            s.stop(1);
        }
    }

    static long metric(String text, String series) {
        Matcher m = Pattern.compile("(?m)^" + series + " ([0-9]+)$").matcher(text);
        assertTrue(m.find(), series + " in\n" + text);
        return Long.parseLong(m.group(1));
    }
}
