package dev.kiln.serve;

import static dev.kiln.serve.ServeFixtures.CLIENT;
import static dev.kiln.serve.ServeFixtures.artifact;
import static dev.kiln.serve.ServeFixtures.assertError;
import static dev.kiln.serve.ServeFixtures.body;
import static dev.kiln.serve.ServeFixtures.get;
import static dev.kiln.serve.ServeFixtures.mlp;
import static dev.kiln.serve.ServeFixtures.options;
import static dev.kiln.serve.ServeFixtures.predict;
import static dev.kiln.serve.ServeFixtures.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the hostile test found, each as a regression test on loopback: a slowloris flood
 * beside valid traffic, the connection bound, memory admission for concurrent large bodies, and
 * a malformed URL. (SIGTERM's exit code is ServeCommandTest's.)
 */
class ServeHardeningTest {
    @TempDir
    Path dir;

    static double[] latenciesMs(ModelServer s, int n) throws Exception {
        double[] t = new double[n];
        String b = body("x", randn(new Random(3), 2, 16));
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            HttpResponse<String> r = predict(s, b);
            t[i] = (System.nanoTime() - t0) / 1e6;
            assertEquals(200, r.statusCode(), r.body());
        }
        Arrays.sort(t);
        return t;
    }

    @Test
    void aSlowlorisFloodDoesNotDelayValidRequestsAndIsCutOff() throws Exception {
        ModelServer s = ModelServer.start(artifact(mlp(), dir), options().withBatching(1, 0));
        List<Socket> flood = new ArrayList<>();
        try {
            latenciesMs(s, 50); // warm up
            double[] quiet = latenciesMs(s, 100);
            // 300 connections: half promise a 1000-byte body and send 3 bytes of it, half trickle their headers
            for (int i = 0; i < 300; i++) {
                Socket k = new Socket("127.0.0.1", s.port());
                OutputStream out = k.getOutputStream();
                String head = i % 2 == 0
                        ? "POST /v1/models/mlp:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"i"
                        : "POST /v1/models/mlp:predict HTTP/1.1\r\nHost: x\r\nX-Slow: ";
                out.write(head.getBytes(StandardCharsets.US_ASCII));
                out.flush();
                flood.add(k);
            }
            double[] flooded = latenciesMs(s, 100);
            double quietP50 = quiet[50], floodP50 = flooded[50], floodP99 = flooded[98];
            System.out.printf("slowloris: quiet p50 %.2f ms p99 %.2f ms; beside 300 slow connections p50 %.2f ms p99 %.2f ms%n", quietP50, quiet[98], floodP50, floodP99);
            assertTrue(floodP50 < quietP50 + 20 && floodP99 < 500,
                    "valid requests beside 300 slow connections: p50 " + floodP50 + " ms (quiet " + quietP50 + " ms), p99 " + floodP99 + " ms");
            assertTrue(s.connections() >= 300, "the flood is connected: " + s.connections());
            // the read timeout (2 s here) closes every flood connection
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (s.connections() > 5 && System.nanoTime() < deadline) Thread.sleep(100);
            assertTrue(s.connections() <= 5, "flood connections closed: " + s.connections() + " still open");
            assertEquals(0, s.memoryInUse(), "nothing is held for the closed connections");
        } finally {
            for (Socket k : flood) k.close();
            s.stop(1);
        }
    }

    @Test
    void theConnectionCountIsBounded() throws Exception {
        ModelServer s = ModelServer.start(artifact(mlp(), dir), options().withMaxConnections(20));
        List<Socket> open = new ArrayList<>();
        try {
            for (int i = 0; i < 40; i++) open.add(new Socket("127.0.0.1", s.port()));
            Thread.sleep(300);
            assertTrue(s.connections() <= 20, s.connections() + " connections open, bound 20");
            for (Socket k : open) k.close();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (s.connections() > 0 && System.nanoTime() < deadline) Thread.sleep(20);
            assertEquals(200, predict(s, body("x", randn(new Random(4), 1, 16))).statusCode(), "served again once the flood is gone");
        } finally {
            for (Socket k : open) k.close();
            s.stop(1);
        }
    }

    @Test
    void concurrentLargeBodiesGet200Or503NeverAnError() throws Exception {
        // a 6 MB budget: one ~290 KB JSON body fits (13x its bytes, 64 KB, 300 KB for its outputs' JSON), two at once do not
        ModelServer s = ModelServer.start(artifact(mlp(), dir), options().withBatching(1, 0).withMemoryBudgetBytes(6_000_000).withMaxBodyBytes(1 << 20));
        try {
            String big = body("x", randn(new Random(5), 1500, 16));
            assertTrue(big.length() > 200_000 && big.length() < 400_000, "body " + big.length());
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                all.add(CLIENT.sendAsync(HttpRequest.newBuilder(URI.create(s.url() + "/v1/models/mlp:predict")).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(big)).build(), HttpResponse.BodyHandlers.ofString()));
            }
            int ok = 0, busy = 0;
            for (var f : all) {
                HttpResponse<String> r = f.get();
                if (r.statusCode() == 200) ok++;
                else {
                    assertError(r, 503, "retry later");
                    assertEquals("1", r.headers().firstValue("Retry-After").orElse(""));
                    busy++;
                }
            }
            assertTrue(ok >= 1 && ok + busy == 8, ok + " answered, " + busy + " told to retry");
            long deadline = System.nanoTime() + 2_000_000_000L;
            while (s.memoryInUse() > 0 && System.nanoTime() < deadline) Thread.sleep(10);
            assertEquals(0, s.memoryInUse(), "every reservation was released");
            // a body that can never fit is 413 at once
            String huge = body("x", randn(new Random(6), 5000, 16));
            assertTrue(huge.length() < (1 << 20));
            assertError(predict(s, huge), 413, "more than this server's budget");
        } finally {
            s.stop(1);
        }
    }

    @Test
    void aRequestWithoutABodyReservesNoBodyShare() throws Exception {
        // a body-carrying request of the 10 MB limit could never fit a 1 MB budget; GETs must not pay for one
        ModelServer s = ModelServer.start(artifact(mlp(), dir), options().withMemoryBudgetBytes(1_000_000).withMaxBodyBytes(10 << 20));
        try {
            for (String path : new String[] {"/healthz", "/v1/models/mlp"}) {
                try (Socket k = new Socket("127.0.0.1", s.port())) { // neither Content-Length nor chunked: no body
                    k.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    String answer = new String(k.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    assertTrue(answer.startsWith("HTTP/1.1 200"), path + ": " + answer);
                }
            }
            assertEquals(200, predict(s, body("x", randn(new Random(1), 2, 16))).statusCode());
            // released once the answer is written, which the client may see a moment earlier
            long deadline = System.nanoTime() + 2_000_000_000L;
            while (s.memoryInUse() > 0 && System.nanoTime() < deadline) Thread.sleep(5);
            assertEquals(0, s.memoryInUse());
        } finally {
            s.stop(1);
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrderAndMalformedChunksAre400() throws Exception {
        ModelServer s = ModelServer.start(artifact(mlp(), dir), options().withBatching(1, 0));
        try (Socket k = new Socket("127.0.0.1", s.port())) {
            // a slow predict first, then two quick GETs, in one write: HTTP/1.1 answers in request order
            String big = body("x", randn(new Random(8), 3000, 16));
            String req = "POST /v1/models/mlp:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + big.length() + "\r\n\r\n" + big
                    + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /v1/models/mlp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
            k.getOutputStream().write(req.getBytes(StandardCharsets.US_ASCII));
            String answer = new String(k.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int predicted = answer.indexOf("\"outputs\""), healthy = answer.indexOf("\"status\":\"ok\""), metadata = answer.indexOf("\"inputs\"");
            assertEquals(3, answer.split("HTTP/1.1 200", -1).length - 1, answer.length() > 600 ? answer.substring(0, 300) : answer);
            assertTrue(predicted > 0 && predicted < healthy && healthy < metadata, "answers out of order: " + predicted + ", " + healthy + ", " + metadata);
        }
        try (Socket k = new Socket("127.0.0.1", s.port())) {
            k.getOutputStream().write(("POST /v1/models/mlp:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "zz\r\n{}\r\n0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String answer = new String(k.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(answer.startsWith("HTTP/1.1 400") && answer.contains("application/json"), answer);
        }
        try {
            long deadline = System.nanoTime() + 2_000_000_000L;
            while (s.memoryInUse() > 0 && System.nanoTime() < deadline) Thread.sleep(10);
            assertEquals(0, s.memoryInUse(), "every reservation was released");
            assertEquals(200, get(s, "/healthz").statusCode());
        } finally {
            s.stop(1);
        }
    }

    @Test
    void aPipelinedRequestRefusedAtItsHeadIsAnsweredAfterTheOneBeforeIt() throws Exception {
        ModelServer s = ModelServer.start(artifact(mlp(), dir), options().withBatching(1, 0).withMaxBodyBytes(1 << 20));
        try (Socket k = new Socket("127.0.0.1", s.port())) {
            String big = body("x", randn(new Random(9), 3000, 16));
            String req = "POST /v1/models/mlp:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + big.length() + "\r\n\r\n" + big
                    + "POST /v1/models/mlp:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n";
            k.getOutputStream().write(req.getBytes(StandardCharsets.US_ASCII));
            String answer = new String(k.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int ok = answer.indexOf("HTTP/1.1 200"), refused = answer.indexOf("HTTP/1.1 413");
            assertTrue(ok == 0 && refused > ok && answer.contains("\"outputs\""), answer.length() > 400 ? answer.substring(0, 200) + " ... " + answer.substring(answer.length() - 200) : answer);
        } finally {
            s.stop(1);
        }
    }

    @Test
    void aChunkedBodyMayUseWhatTheBudgetAllowsNotTheWholeBodyLimit() throws Exception {
        // the default 16 MiB limit at 13x would need 218 MB: a 150 MiB budget must still take small chunked requests
        ModelServer s = ModelServer.start(artifact(mlp(), dir), options().withMemoryBudgetBytes(150L << 20));
        try {
            String small = body("x", randn(new Random(2), 2, 16));
            HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create(s.url() + "/v1/models/mlp:predict")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(small.getBytes(StandardCharsets.UTF_8)))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
        } finally {
            s.stop(1);
        }
        // a chunked body grows its reservation as it streams in, and is refused when the budget cannot hold it
        ModelServer tight = ModelServer.start(artifact(mlp(), dir), options().withMemoryBudgetBytes(1_000_000));
        try {
            String big = body("x", randn(new Random(3), 2000, 16)); // ~400 kB: more than 13x fits in two thirds of 1 MB
            HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create(tight.url() + "/v1/models/mlp:predict")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8)))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertError(r, 413, "budget");
        } catch (java.io.IOException closedWhileSending) {
            // the client may see the connection close before it reads the answer; the server refused either way
        } finally {
            tight.stop(1);
        }
    }

    @Test
    void aStalledChunkedUploadHoldsLittleAndARefusedPipelinedBodyIsDrained() throws Exception {
        ModelServer s = ModelServer.start(artifact(mlp(), dir), options().withMemoryBudgetBytes(150L << 20).withMaxBodyBytes(1 << 20));
        try (Socket stalled = new Socket("127.0.0.1", s.port())) {
            stalled.getOutputStream().write(("POST /v1/models/mlp:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n3\r\n{\"i\r\n").getBytes(StandardCharsets.US_ASCII));
            Thread.sleep(200);
            assertTrue(s.memoryInUse() < 2_000_000, "a stalled chunked upload holds " + s.memoryInUse() + " bytes");
            String small = body("x", randn(new Random(2), 2, 16));
            HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create(s.url() + "/v1/models/mlp:predict")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(small.getBytes(StandardCharsets.UTF_8)))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), "another chunked request beside it: " + r.body());
        }
        // a pipelined request refused at its head still gets to send its body, then reads both answers
        try (Socket k = new Socket("127.0.0.1", s.port())) {
            k.getOutputStream().write(("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "POST /v1/models/mlp:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] piece = new byte[32 << 10];
            java.util.Arrays.fill(piece, (byte) ' ');
            for (int sent = 0; sent < 2_000_000; sent += piece.length) k.getOutputStream().write(piece, 0, Math.min(piece.length, 2_000_000 - sent));
            String answer = new String(k.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int ok = answer.indexOf("HTTP/1.1 200"), refused = answer.indexOf("HTTP/1.1 413");
            assertTrue(ok == 0 && refused > ok, answer);
        } finally {
            s.stop(1);
        }
    }

    @Test
    void aPipelinedRequestExpectingContinueGetsNoInterimAnswerAheadOfTheOneInFlight() throws Exception {
        ModelServer s = ModelServer.start(artifact(mlp(), dir), options().withBatching(1, 0));
        try (Socket k = new Socket("127.0.0.1", s.port())) {
            String big = body("x", randn(new Random(10), 3000, 16)), small = body("x", randn(new Random(11), 1, 16));
            k.getOutputStream().write(("POST /v1/models/mlp:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + big.length()
                    + "\r\n\r\n" + big + "POST /v1/models/mlp:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
                    + "Connection: close\r\nContent-Length: " + small.length() + "\r\n\r\n" + small).getBytes(StandardCharsets.US_ASCII));
            String answer = new String(k.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(answer.startsWith("HTTP/1.1 200"), answer.substring(0, Math.min(200, answer.length())));
            assertEquals(2, answer.split("HTTP/1.1 200", -1).length - 1, "two answers");
        } finally {
            s.stop(1);
        }
    }

    @Test
    void aMalformedUrlGetsAJsonError() throws Exception {
        ModelServer s = ModelServer.start(artifact(mlp(), dir), options());
        try (Socket k = new Socket("127.0.0.1", s.port())) {
            k.getOutputStream().write("GET /v1/models/ml%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String answer = new String(k.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(answer.startsWith("HTTP/1.1 400") && answer.contains("application/json") && answer.contains("malformed percent-encoding"), answer);
            assertEquals(200, get(s, "/healthz").statusCode());
        } finally {
            s.stop(1);
        }
    }
}
