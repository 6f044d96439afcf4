package dev.kiln.benchmarks;

import dev.kiln.Kiln;

/**
 * Kiln's half of the side-by-side comparison: the workloads of ../shared/bench/torch_bench.py
 * with the same names, shapes, hyper-parameters, repetitions and warm-up, printed as the same
 * JSON lines, through the API users write (dev.kiln.eager.nn, optim.SGD, the tracer and the
 * compiled executor). Kiln-only rows (chain1M_traced, *_train_b64_traced) follow their eager
 * sibling; run-side-by-side.sh shows '-' for PyTorch there.
 *
 * <p>The warm-up counts are PyTorch's, which is short for a JIT: on this protocol the small
 * workloads are still measured partly before C2 has compiled them. {@code --rounds N} repeats the
 * whole suite N times and prints only the last pass, the JVM's steady state; the default of 1 is
 * torch_bench.py's protocol.
 */
public final class SideBySide {
    private SideBySide() {}

    public static void main(String[] args) {
        boolean gpt = true, onlyGpt = false;
        int rounds = 1;
        boolean valid = true;
        for (int i = 0; i < args.length && valid; i++) {
            if (args[i].equals("--no-gpt")) gpt = false;
            else if (args[i].equals("--only-gpt")) onlyGpt = true;
            else if (args[i].equals("--rounds") && i + 1 < args.length && args[i + 1].matches("[1-9][0-9]*")) rounds = Integer.parseInt(args[++i]);
            else valid = false;
        }
        if (!gpt && onlyGpt) valid = false; // --no-gpt with --only-gpt would run nothing
        if (!valid) {
            System.err.println("usage: SideBySide [--rounds N] [--no-gpt | --only-gpt]   (N >= 1; only the last round is printed; --no-gpt skips torch_gpt.py's rows, --only-gpt runs only them)");
            System.exit(2);
        }
        for (int r = 1; r <= rounds; r++) {
            Report report = new Report(r == rounds);
            Kiln.manualSeed(0);
            if (!onlyGpt) {
                KernelRows.run(report);
                MlpRows.run(report);
                LeNetRows.run(report);
            }
            if (gpt || onlyGpt) GptRows.run(report); // torch_gpt.py's rows
        }
    }
}
