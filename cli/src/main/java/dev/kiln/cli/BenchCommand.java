package dev.kiln.cli;

import dev.kiln.backend.Strided;
import dev.kiln.graph.Graph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.serialization.KilnReader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code kiln bench MODEL}: latency percentiles and throughput of repeated runs after a warm-up. */
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = KilnCli.Version.class, description = "Time repeated runs: latency p50/p90/p99 and throughput.")
final class BenchCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "a *.kiln.json artifact or an *.onnx model")
    Path model;

    @Option(names = "--input", paramLabel = "NAME=FILE.npy", description = "inputs; when none are given, random inputs with every symbolic dim = --batch-size")
    Map<String, Path> inputs;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "1", description = "value of symbolic dims for random inputs (default ${DEFAULT-VALUE})")
    long batchSize;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "100", description = "timed runs (default ${DEFAULT-VALUE})")
    int iterations;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "10", description = "untimed runs first, so the JIT has compiled the kernels (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--optimize", paramLabel = "LEVEL", defaultValue = "O2", description = "O0 (reference interpreter), O1 or O2 (compiled; default ${DEFAULT-VALUE})")
    OptLevel optimize;

    @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "cpu", description = "cpu, cuda or cuda:N: where the compiled graph runs (default ${DEFAULT-VALUE})")
    String device;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (iterations < 1) throw new CliErrors.UsageException("--iterations must be at least 1, got " + iterations);
        if (warmup < 0) throw new CliErrors.UsageException("--warmup must not be negative, got " + warmup);
        if (batchSize < 1) throw new CliErrors.UsageException("--batch-size must be at least 1, got " + batchSize);
        dev.kiln.eager.Device where = CliErrors.device(device); // before any work: a missing GPU fails first
        Graph g = ModelFiles.load(model);
        List<Strided> in = inputs == null || inputs.isEmpty() ? Inputs.random(g, batchSize, 1) : Inputs.fromFiles(g, inputs);
        Executor exec = Executor.of(g, optimize, where);
        for (int i = 0; i < warmup; i++) exec.run(in);
        long[] ns = new long[iterations];
        long t0 = System.nanoTime();
        for (int i = 0; i < iterations; i++) {
            long s = System.nanoTime();
            exec.run(in);
            ns[i] = System.nanoTime() - s;
        }
        double total = (System.nanoTime() - t0) / 1e9;
        Arrays.sort(ns);
        int rows = in.isEmpty() || in.get(0).rank() == 0 ? 1 : in.get(0).shape()[0];
        PrintWriter out = spec.commandLine().getOut();
        out.printf("model %s, %d iterations after %d warm-up, batch %d (%s)%n", g.name(), iterations, warmup, rows, exec.describe());
        out.printf("latency  p50 %.3f ms   p90 %.3f ms   p99 %.3f ms%n", pct(ns, 50), pct(ns, 90), pct(ns, 99));
        out.printf("throughput %.1f runs/s, %.1f rows/s%n", iterations / total, iterations * (double) rows / total);
        return 0;
    }

    /** Nearest-rank percentile in milliseconds. */
    static double pct(long[] sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(rank, 1) - 1] / 1e6;
    }
}
