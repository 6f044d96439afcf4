package scratchreview;

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
import dev.kiln.serve.ModelServer;
import dev.kiln.serve.ServeOptions;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScratchReviewServeTest {
    @TempDir Path dir;

    static Strided randn(Random r, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return Strided.contiguous(Storage.wrap(a), shape);
    }

    static Artifact mlp(Path dir) throws Exception {
        Random r = new Random(11);
        GraphBuilder b = Graph.builder("mlp");
        Value x = b.addInput("x", new TensorType(DType.FLOAT32, new Dim[] {Dim.symbol("N"), Dim.of(16)}));
        Value w1 = b.addParam("fc1.weight", TensorType.of(DType.FLOAT32, 16, 32), randn(r, 16, 32));
        Value b1 = b.addParam("fc1.bias", TensorType.of(DType.FLOAT32, 32), randn(r, 32));
        Value h = b.add(Op.RELU, Attrs.EMPTY, "Mlp.java:1", b.add(Op.ADDMM, Attrs.EMPTY, "Mlp.java:1", b1, x, w1));
        Graph g = b.output(h).build();
        Path file = dir.resolve("mlp.kiln.json");
        KilnWriter.save(g, file);
        return KilnReader.read(file);
    }

    static String body(int rows) {
        Random r = new Random(8);
        StringBuilder s = new StringBuilder("{\"inputs\": {\"x\": [");
        for (int i = 0; i < rows; i++) {
            s.append(i == 0 ? "[" : ", [");
            for (int j = 0; j < 16; j++) s.append(j == 0 ? "" : ", ").append((float) r.nextGaussian());
            s.append(']');
        }
        return s.append("]}}").toString();
    }

    static ServeOptions options() { return ServeOptions.defaults().withReadTimeoutSeconds(2); }

    @Test
    void pipelinedRefusalOvertakesTheAnswerInFlight() throws Exception {
        ModelServer s = ModelServer.start(mlp(dir), options().withBatching(1, 0).withMaxBodyBytes(1 << 20));
        try (Socket k = new Socket("127.0.0.1", s.port())) {
            k.setSoTimeout(10000);
            String big = body(3000);
            String req = "POST /v1/models/mlp:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + big.length() + "\r\n\r\n" + big
                    + "POST /v1/models/mlp:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n";
            k.getOutputStream().write(req.getBytes(StandardCharsets.US_ASCII));
            k.getOutputStream().flush();
            byte[] buf = new byte[4096];
            InputStream in = k.getInputStream();
            StringBuilder sb = new StringBuilder();
            try {
                int n;
                while ((n = in.read(buf)) > 0) { sb.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1)); if (sb.length() > 400) break; }
            } catch (java.net.SocketTimeoutException e) { sb.append("<timeout>"); }
            String a = sb.toString();
            System.out.println("PIPELINE FIRST ANSWER: " + a.substring(0, Math.min(300, a.length())).replace("\r\n", " | "));
        } finally {
            s.stop(1);
        }
    }

    @Test
    void smallChunkedJsonRequestRefusedWithSmallBudget() throws Exception {
        ModelServer s = ModelServer.start(mlp(dir), options().withMemoryBudgetBytes(150L << 20));
        try (Socket k = new Socket("127.0.0.1", s.port())) {
            k.setSoTimeout(10000);
            String b = body(1);
            String chunk = Integer.toHexString(b.length()) + "\r\n" + b + "\r\n0\r\n\r\n";
            k.getOutputStream().write(("POST /v1/models/mlp:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                    + chunk).getBytes(StandardCharsets.US_ASCII));
            String answer = new String(k.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            System.out.println("CHUNKED ANSWER: " + answer.replace("\r\n", " | "));
        } finally {
            s.stop(1);
        }
    }
}
