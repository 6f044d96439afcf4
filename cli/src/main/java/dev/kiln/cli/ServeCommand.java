package dev.kiln.cli;

import dev.kiln.serve.ModelRepository;
import dev.kiln.serve.ModelServer;
import dev.kiln.serve.ServeOptions;
import dev.kiln.serialization.KilnReader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code kiln serve MODEL}: the model (or a model directory) behind HTTP until the process is stopped (see docs/serving.md). */
@Command(name = "serve", mixinStandardHelpOptions = true, versionProvider = KilnCli.Version.class,
        description = "Serve models over HTTP: POST /v1/models/NAME[/versions/V]:predict, GET /v1/models[/NAME], the KServe v2 API under /v2, /healthz, /metrics.")
final class ServeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL",
            description = "a *.kiln.json artifact, an *.onnx model, or a model directory laid out NAME/VERSION/model-file (every model, every version)")
    Path model;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8080", description = "TCP port (0: any free one; default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = "127.0.0.1", description = "address to bind (default ${DEFAULT-VALUE}: this machine only)")
    String host;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "32", description = "HTTP worker threads (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--max-batch", paramLabel = "ROWS", defaultValue = "32", description = "rows per dynamic batch; 1 turns batching off (default ${DEFAULT-VALUE})")
    int maxBatch;

    @Option(names = "--max-delay-ms", paramLabel = "MS", defaultValue = "2", description = "how long a request waits for others to batch with (default ${DEFAULT-VALUE})")
    int maxDelayMs;

    @Option(names = "--max-body-bytes", paramLabel = "BYTES", defaultValue = "16777216", description = "largest request body (default ${DEFAULT-VALUE})")
    long maxBodyBytes;

    @Option(names = "--max-inflight", paramLabel = "N", defaultValue = "64", description = "requests admitted at once; more get 503 (default ${DEFAULT-VALUE})")
    int maxInflight;

    @Option(names = "--read-timeout-s", paramLabel = "S", defaultValue = "30",
            description = "close a connection that has not sent its whole request within S seconds of connecting or of its last answer (default ${DEFAULT-VALUE})")
    int readTimeoutSeconds;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "4096", description = "open connections at once; more are closed at accept (default ${DEFAULT-VALUE})")
    int maxConnections;

    @Option(names = "--memory-budget-bytes", paramLabel = "BYTES", defaultValue = "0",
            description = "memory all requests in flight may hold (bodies, tensors, answers); over it a request gets 503, or 413 if it can never fit (default 0: a third of the heap)")
    long memoryBudgetBytes;

    @Option(names = "--access-log", paramLabel = "FILE", description = "append one JSON line per request to FILE (- for standard output)")
    String accessLog;

    @Option(names = "--poll-s", paramLabel = "S", defaultValue = "0",
            description = "rescan a model directory every S seconds for new, changed and removed versions (default 0: only on SIGHUP)")
    int pollSeconds;

    @Option(names = "--drain-s", paramLabel = "S", defaultValue = "10", description = "on shutdown, wait up to S seconds for requests in flight (default ${DEFAULT-VALUE})")
    int drainSeconds;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ServeOptions options = new ServeOptions(host, port, threads, maxBatch, maxDelayMs, maxBodyBytes, maxInflight, readTimeoutSeconds, maxConnections,
                memoryBudgetBytes, accessLog, pollSeconds);
        if (drainSeconds < 0) throw new CliErrors.UsageException("--drain-s must be at least 0, got " + drainSeconds);
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        ModelServer server;
        boolean directory = java.nio.file.Files.isDirectory(model);
        if (directory) {
            ModelRepository.Loader loader = file -> {
                dev.kiln.serialization.Artifact a = ModelFiles.read(file);
                ModelFiles.warnIfTraining(a.graph(), err);
                return a;
            };
            server = ModelServer.start(model, loader, options, report -> print(report, out, err));
        } else {
            if (pollSeconds > 0) throw new CliErrors.UsageException("--poll-s rescans a model directory; " + model + " is a file");
            dev.kiln.serialization.Artifact artifact = ModelFiles.read(model);
            ModelFiles.warnIfTraining(artifact.graph(), err);
            server = ModelServer.start(artifact, options);
        }
        if (directory) {
            try { // SIGHUP rescans the directory, as daemons reload their configuration
                sun.misc.SignalHandler previous = sun.misc.Signal.handle(new sun.misc.Signal("HUP"),
                        sig -> new Thread(() -> print(server.reload(), out, err), "kiln-serve-reload").start());
                if (previous == sun.misc.SignalHandler.SIG_IGN) {
                    // the JVM keeps an ignored signal ignored: a handler set now is never called
                    err.println("kiln serve: SIGHUP is ignored in this process (started under nohup?), so it cannot trigger a reload; use --poll-s");
                    err.flush();
                }
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                err.println("kiln serve: this platform has no SIGHUP; use --poll-s to pick up new versions");
                err.flush();
            }
        }
        if (directory) {
            for (String name : server.modelNames()) out.println("serving " + name + " at " + server.url() + "/v1/models/" + name);
            out.println("batching: " + server.batchingDescription());
        } else {
            out.println("serving " + server.modelName() + " at " + server.url() + "/v1/models/" + server.modelName() + " (batching " + server.batchingDescription() + ")");
        }
        out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable drain = () -> {
            if (!stopping.compareAndSet(false, true)) return;
            server.stop(drainSeconds);
            stopped.countDown();
        };
        // SIGTERM or Ctrl-C: refuse new requests, finish those in flight, then exit 0 (a drained
        // stop is a clean stop). Handling the signal, rather than only a shutdown hook, is what
        // makes the exit status 0 instead of 128 + 15; the hook still covers anything else.
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> new Thread(drain, "kiln-serve-" + name).start());
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // this platform lets no handler be set for the signal: the shutdown hook drains
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(drain, "kiln-serve-shutdown"));
        stopped.await();
        return 0;
    }

    private static void print(ModelRepository.Report report, PrintWriter out, PrintWriter err) {
        synchronized (out) {
            for (String c : report.changes()) out.println("kiln serve: " + c);
            out.flush();
        }
        synchronized (err) {
            for (String p : report.problems()) err.println("kiln serve: reload: " + p + " (what was serving keeps serving)");
            err.flush();
        }
    }
}
