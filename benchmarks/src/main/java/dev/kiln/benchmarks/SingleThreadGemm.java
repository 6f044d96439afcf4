package dev.kiln.benchmarks;

import dev.kiln.backend.cpu.parallel.Parallel;
import dev.kiln.eager.Tensor;

/**
 * sgemm1024 on one thread, as row {@code sgemm1024_1t}: the single-thread GEMM target
 * compares it with OpenBLAS on one thread (torch_bench.py 1). Run with {@code -Dkiln.threads=1};
 * the pool size is fixed when the JVM starts, so a SideBySide JVM cannot measure both.
 */
public final class SingleThreadGemm {
    private SingleThreadGemm() {}

    public static void main(String[] args) {
        if (Parallel.threads() != 1) {
            System.err.println("SingleThreadGemm: run with -Dkiln.threads=1 (this JVM has " + Parallel.threads() + " threads)");
            System.exit(2);
        }
        Report report = new Report(true);
        int n = 1024;
        Tensor a = Tensor.randn(n, n), b = Tensor.randn(n, n);
        Median.ms(() -> a.matmul(b), 20, 5); // the JIT's warm-up round, as SideBySide's first round
        double ms = Median.ms(() -> a.matmul(b), 20, 5);
        report.msWithGflops("sgemm" + n + "_1t", ms, 2.0 * n * n * n / ms / 1e6);
    }
}
