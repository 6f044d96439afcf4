package dev.kiln.benchmarks;

/**
 * Where the rows go: stdout as torch_bench.py's JSON lines, or nowhere during the JIT warm-up
 * rounds of {@code --rounds N} (every round runs the same work; only the last one is printed).
 */
final class Report {
    /**
     * The threads Kiln's GEMM (GemmProvider) and batch-split kernels may use: kiln.threads, else
     * every available processor, as torch.get_num_threads() reports PyTorch's setting.
     */
    static final int THREADS = Integer.getInteger("kiln.threads", Runtime.getRuntime().availableProcessors());

    private final boolean print;

    Report(boolean print) { this.print = print; }

    void ms(String workload, double ms) { emit(JsonLine.of(workload, ms, THREADS)); }

    void msWithGflops(String workload, double ms, double gflops) { emit(JsonLine.withGflops(workload, ms, THREADS, gflops)); }

    /** Flushed per line: the runner script reads results while later workloads still run. */
    private void emit(String line) {
        if (!print) return;
        System.out.println(line);
        System.out.flush();
    }
}
