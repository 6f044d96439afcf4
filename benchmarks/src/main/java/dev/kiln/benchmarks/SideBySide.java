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
        boolean valid = args.length == 0 || args.length == 2 && args[0].equals("--rounds") && args[1].matches("[1-9][0-9]*");
        if (!valid) {
            System.err.println("usage: SideBySide [--rounds N]   (N >= 1; only the last round is printed)");
            System.exit(2);
        }
        int rounds = args.length == 0 ? 1 : Integer.parseInt(args[1]);
        for (int r = 1; r <= rounds; r++) {
            Report report = new Report(r == rounds);
            Kiln.manualSeed(0);
            KernelRows.run(report);
            MlpRows.run(report);
            LeNetRows.run(report);
            GptRows.run(report); // torch_gpt.py's rows
        }
    }
}
