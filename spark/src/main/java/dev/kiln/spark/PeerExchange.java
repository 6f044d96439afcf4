package dev.kiln.spark;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.BarrierTaskContext;

/**
 * The per-step all-reduce of a training round, over direct TCP connections between the round's
 * workers. {@link BarrierTaskContext#allGather} is used once per round, to exchange addresses:
 * Spark's barrier calls poll for completion once a second, so an all-reduce through allGather
 * costs about half a second to a second per step whatever its size (measured: docs/spark.md).
 * Every worker connects to every other (a full mesh: N-1 peers each, right for the handful of
 * workers a barrier stage has), sends its vector to all of them and sums all N vectors in worker
 * order, so every replica gets the same bits. A connection must first present the round's token,
 * which only the driver and the round's tasks know.
 */
final class PeerExchange implements AutoCloseable {
    /** How long a worker waits for a peer's vector before failing its task (Spark then retries the stage). */
    private static final int READ_TIMEOUT_MS = 600_000;

    private final int worker, workers;
    private final DataInputStream[] in;
    private final DataOutputStream[] out;
    private final Socket[] sockets;
    private final ExecutorService senders;
    long bytesSent;

    private PeerExchange(int worker, int workers, Socket[] sockets) throws IOException {
        this.worker = worker;
        this.workers = workers;
        this.sockets = sockets;
        in = new DataInputStream[workers];
        out = new DataOutputStream[workers];
        for (int p = 0; p < workers; p++) {
            if (sockets[p] == null) continue;
            in[p] = new DataInputStream(new BufferedInputStream(sockets[p].getInputStream(), 1 << 16));
            out[p] = new DataOutputStream(new BufferedOutputStream(sockets[p].getOutputStream(), 1 << 16));
        }
        senders = Executors.newFixedThreadPool(Math.max(1, workers - 1), r -> {
            Thread t = new Thread(r, "kiln-peer-send-" + worker);
            t.setDaemon(true);
            return t;
        });
    }

    /** How long a connecting stranger may take to say who it is before it is dropped. */
    private static final int HELLO_TIMEOUT_MS = 10_000;

    /** Connects this round's workers to each other: a listening socket each, addresses exchanged with one allGather. */
    static PeerExchange connect(BarrierTaskContext ctx, long token) {
        int w = ctx.partitionId(), n = ctx.getTaskInfos().length;
        Socket[] sockets = new Socket[n];
        try (ServerSocket server = new ServerSocket()) {
            // every interface: the advertised name may resolve to a loopback address on this host
            // (Debian maps the host name to 127.0.1.1), which peers elsewhere could not reach
            server.bind(new InetSocketAddress(0), n);
            String host = ctx.getTaskInfos()[w].address();
            host = host.contains(":") ? host.substring(0, host.lastIndexOf(':')) : host;
            String[] addresses = ctx.allGather(host + ":" + server.getLocalPort());
            // the lower-numbered worker accepts, the higher one connects: one connection per pair
            for (int p = w + 1; p < n; p++) {
                String a = addresses[p];
                Socket s = new Socket();
                sockets[p] = s;
                s.connect(new InetSocketAddress(a.substring(0, a.lastIndexOf(':')), Integer.parseInt(a.substring(a.lastIndexOf(':') + 1))), HELLO_TIMEOUT_MS * 6);
                DataOutputStream hello = new DataOutputStream(s.getOutputStream());
                hello.writeLong(token);
                hello.writeInt(w);
                hello.flush();
            }
            server.setSoTimeout(READ_TIMEOUT_MS);
            for (int accepted = 0; accepted < w; ) {
                Socket s = server.accept();
                int peer = -1;
                try {
                    s.setSoTimeout(HELLO_TIMEOUT_MS);
                    DataInputStream hello = new DataInputStream(s.getInputStream());
                    long t = hello.readLong();
                    peer = hello.readInt();
                    if (t != token || peer < 0 || peer >= w || sockets[peer] != null) peer = -1;
                } catch (IOException e) {
                    peer = -1; // a stranger that said nothing useful
                }
                if (peer < 0) {
                    s.close();
                    continue;
                }
                sockets[peer] = s;
                accepted++;
            }
            for (Socket s : sockets) {
                if (s == null) continue;
                s.setSoTimeout(READ_TIMEOUT_MS);
                s.setTcpNoDelay(true);
            }
            return new PeerExchange(w, n, sockets);
        } catch (IOException | RuntimeException e) {
            closeAll(sockets);
            if (e instanceof RuntimeException r) throw r;
            throw new UncheckedIOException("worker " + w + " could not connect to the other workers of its round", (IOException) e);
        }
    }

    private static void closeAll(Socket[] sockets) {
        for (Socket s : sockets) {
            if (s == null) continue;
            try {
                s.close();
            } catch (IOException ignored) {
                // closing after a failure: the failure is what gets reported
            }
        }
    }

    /** The element-wise sum over all workers of their vectors, added in worker order (the same bits on every worker). */
    float[] allReduce(float[] mine) {
        byte[] bytes = toBytes(mine);
        try {
            List<Future<?>> sends = new ArrayList<>();
            for (int p = 0; p < workers; p++) {
                if (out[p] == null) continue;
                DataOutputStream o = out[p];
                sends.add(senders.submit(() -> {
                    o.writeInt(bytes.length);
                    o.write(bytes);
                    o.flush();
                    return null;
                }));
                bytesSent += bytes.length + 4;
            }
            float[][] all = new float[workers][];
            all[worker] = mine;
            for (int p = 0; p < workers; p++) {
                if (in[p] == null) continue;
                int len = in[p].readInt();
                if (len != bytes.length) throw new IOException("worker " + p + " sent " + len / 4 + " values, this one " + mine.length + ": the replicas differ");
                byte[] b = new byte[len];
                in[p].readFully(b);
                all[p] = fromBytes(b);
            }
            for (Future<?> f : sends) f.get();
            float[] sum = new float[mine.length];
            for (float[] v : all) for (int i = 0; i < sum.length; i++) sum[i] += v[i];
            return sum;
        } catch (IOException e) {
            throw new UncheckedIOException("worker " + worker + ": the exchange with the other workers failed", e);
        } catch (Exception e) {
            throw new IllegalStateException("worker " + worker + ": the exchange with the other workers failed: " + e.getMessage(), e);
        }
    }

    private static byte[] toBytes(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    private static float[] fromBytes(byte[] bytes) {
        float[] v = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return v;
    }

    @Override
    public void close() {
        senders.shutdownNow();
        closeAll(sockets);
    }
}
