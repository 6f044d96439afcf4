package scratchreview;

import dev.kiln.backend.DType;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Value;
import dev.kiln.serialization.KilnReader;
import dev.kiln.serialization.KilnWriter;
import dev.kiln.serve.ModelServer;
import dev.kiln.serve.ServeOptions;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScratchReviewStopTest {
    @TempDir Path dir;

    @Test
    void queuedMetadataRequestSpinsAfterStop() throws Exception {
        Random r = new Random(1);
        GraphBuilder b = Graph.builder("slow");
        Value x = b.addInput("x", new TensorType(DType.FLOAT32, new Dim[] {Dim.symbol("N"), Dim.of(16)}));
        Value w1 = b.addParam("w1", TensorType.of(DType.FLOAT32, 16, 1536), ScratchReviewServeTest.randn(r, 16, 1536));
        Value h = b.add(Op.MATMUL, Attrs.EMPTY, "S.java:1", x, w1);
        for (int i = 0; i < 4; i++) {
            Value w = b.addParam("w" + (i + 2), TensorType.of(DType.FLOAT32, 1536, 1536), ScratchReviewServeTest.randn(r, 1536, 1536));
            h = b.add(Op.MATMUL, Attrs.EMPTY, "S.java:2", h, w);
        }
        Path file = dir.resolve("slow.kiln.json");
        KilnWriter.save(b.output(h).build(), file);
        ModelServer s = ModelServer.start(KilnReader.read(file), ServeOptions.defaults().withReadTimeoutSeconds(5).withThreads(1).withBatching(1, 0));
        {
            Socket k0 = new Socket("127.0.0.1", s.port());
            String big0 = ScratchReviewServeTest.body(Integer.getInteger("rows", 5000));
            long a = System.nanoTime();
            k0.getOutputStream().write(("POST /v1/models/slow:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + big0.length() + "\r\n\r\n" + big0).getBytes(StandardCharsets.US_ASCII));
            byte[] all = k0.getInputStream().readAllBytes();
            System.out.println("ALONE ms " + (System.nanoTime() - a) / 1_000_000 + " " + new String(all, 0, 20));
            k0.close();
        }
        Socket k1 = new Socket("127.0.0.1", s.port()), k2 = new Socket("127.0.0.1", s.port());
        String big = ScratchReviewServeTest.body(Integer.getInteger("rows", 5000));
        k1.getOutputStream().write(("POST /v1/models/slow:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + big.length() + "\r\n\r\n" + big).getBytes(StandardCharsets.US_ASCII));
        Thread.sleep(300);
        k2.getOutputStream().write("GET /v1/models/slow HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        Thread.sleep(200);
        System.out.println("INFLIGHT before stop: mem " + s.memoryInUse() + " conns " + s.connections());
        long t0 = System.nanoTime();
        s.stop(1);
        System.out.println("STOP took ms " + (System.nanoTime() - t0) / 1_000_000);
        Thread.sleep(3000);
        for (var e : Thread.getAllStackTraces().entrySet()) {
            if (e.getKey().getName().startsWith("kiln-http")) {
                System.out.println("THREAD " + e.getKey().getName() + " " + e.getKey().getState());
                for (StackTraceElement f : e.getValue()) if (f.getClassName().contains("kiln")) System.out.println("   at " + f);
            }
        }
        k1.setSoTimeout(2000); k2.setSoTimeout(2000);
        try { System.out.println("K1: " + new String(k1.getInputStream().readNBytes(60))); } catch (Exception e) { System.out.println("K1 " + e); }
        try { System.out.println("K2: " + new String(k2.getInputStream().readNBytes(60))); } catch (Exception e) { System.out.println("K2 " + e); }
        k1.close();
        k2.close();
    }
}
