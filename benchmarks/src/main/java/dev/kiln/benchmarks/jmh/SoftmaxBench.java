package dev.kiln.benchmarks.jmh;

import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Setup;

/**
 * Row softmax and log-softmax of [64,1000] logits (a classifier head at batch 64).
 * GB/s = ops/s × 2·4·64000 / 1e9 (read once, write once); the exp per element usually
 * dominates, so also compare elements/s = ops/s × 64000.
 */
public class SoftmaxBench extends KilnBenchmark {
    private Tensor logits;

    @Setup
    public void setup() {
        Kiln.manualSeed(0);
        logits = Tensor.randn(64, 1000);
    }

    @Benchmark
    public Tensor softmax() { return logits.softmax(1); }

    @Benchmark
    public Tensor logSoftmax() { return logits.logSoftmax(1); }
}
