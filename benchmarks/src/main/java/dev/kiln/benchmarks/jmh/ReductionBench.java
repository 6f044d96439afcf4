package dev.kiln.benchmarks.jmh;

import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Setup;

/**
 * float32 sums over 2^20 elements, read once: GB/s = ops/s × 4·2^20 / 1e9 for all three.
 * Dim 0 of a row-major [1024,1024] walks columns (strided, the case a naive loop gets wrong);
 * dim 1 reduces contiguous rows.
 */
public class ReductionBench extends KilnBenchmark {
    private Tensor flat;
    private Tensor matrix;

    @Setup
    public void setup() {
        Kiln.manualSeed(0);
        flat = Tensor.randn(1 << 20);
        matrix = Tensor.randn(1024, 1024);
    }

    @Benchmark
    public Tensor sumAll() { return flat.sum(); }

    @Benchmark
    public Tensor sumDim0() { return matrix.sum(0); }

    @Benchmark
    public Tensor sumDim1() { return matrix.sum(1); }
}
