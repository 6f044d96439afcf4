package dev.kiln.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kiln serve}'s command line: bad options and models fail before anything binds (the server itself: dev.kiln.cli.serve). */
class ServeCommandTest {
    @TempDir
    Path dir;

    @Test
    void badArgumentsAreOneLineExitTwo() throws Exception {
        new KilnCliTest().saveModelIn(dir);
        String model = dir.resolve("mlp.kiln.json").toString();
        expect2(new String[] {"serve", dir.resolve("missing.kiln.json").toString()}, "no such file: ");
        expect2(new String[] {"serve", model, "--max-batch", "0", "--port", "0"}, "--max-batch must be at least 1, got 0");
        expect2(new String[] {"serve", model, "--port", "70000"}, "--port must be in 0..65535, got 70000");
        expect2(new String[] {"serve", model, "--max-inflight", "-1", "--port", "0"}, "--max-inflight must be at least 1");
        expect2(new String[] {"serve", model, "--threads", "many"}, "Invalid value for option '--threads'");
    }

    @Test
    void aPortInUseIsNamed() throws Exception {
        new KilnCliTest().saveModelIn(dir);
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            expect2(new String[] {"serve", dir.resolve("mlp.kiln.json").toString(), "--host", "127.0.0.1", "--port", Integer.toString(port)},
                    "cannot listen on 127.0.0.1:" + port);
        }
    }

    @Test
    void sigtermDrainsAndExitsZero() throws Exception {
        new KilnCliTest().saveModelIn(dir);
        Path log = dir.resolve("serve.log");
        Process p = new ProcessBuilder(java.util.List.of(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), KilnCli.class.getName(),
                "serve", dir.resolve("mlp.kiln.json").toString(), "--port", "0", "--drain-s", "2"))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!java.nio.file.Files.readString(log).contains("serving ") && System.nanoTime() < deadline && p.isAlive()) Thread.sleep(50);
            assertTrue(java.nio.file.Files.readString(log).contains("serving "), java.nio.file.Files.readString(log));
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "did not stop");
            assertEquals(0, p.exitValue(), java.nio.file.Files.readString(log));
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void helpListsTheOptions() {
        StringWriter out = new StringWriter();
        assertEquals(0, KilnCli.execute(new String[] {"serve", "--help"}, new PrintWriter(out), new PrintWriter(new StringWriter())));
        for (String o : new String[] {"--port", "--host", "--threads", "--max-batch", "--max-delay-ms", "--max-body-bytes", "--max-inflight", "--read-timeout-s", "--drain-s"}) {
            assertTrue(out.toString().contains(o), o + " in\n" + out);
        }
    }

    private static void expect2(String[] args, String expected) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = KilnCli.execute(args, new PrintWriter(out), new PrintWriter(err));
        KilnCliTest.badInput(new KilnCliTest.Result(code, out.toString(), err.toString()), expected);
    }
}
