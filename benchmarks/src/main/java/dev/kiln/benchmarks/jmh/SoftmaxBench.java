package dev.kiln.benchmarks.jmh;

import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Row softmax and log-softmax of [64,1000] logits (a classifier head at batch 64).
 * GB/s = ops/s × 2·4·64000 / 1e9 (read once, write once); the exp per element usually
 * dominates, so also compare elements/s = ops/s × 64000.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class SoftmaxBench {
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
