package dev.kiln.benchmarks.jmh;

import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;

/**
 * The per-op cost of the eager funnel at steady state: the JMH twins of the side-by-side rows
 * add16_eager_us and mul16_grad_us (16 elements, so the arithmetic is negligible).
 * Reported in µs/op directly; run with {@code -prof gc} for bytes allocated per op.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class DispatchBench extends KilnBenchmark {
    private Tensor x;
    private Tensor y;
    private Tensor xg;

    @Setup
    public void setup() {
        Kiln.manualSeed(0);
        x = Tensor.randn(16);
        y = Tensor.randn(16);
        xg = Tensor.randn(16).requiresGrad(true);
    }

    /** No input requires grad: check, infer, kernel, wrap. */
    @Benchmark
    public Tensor add16() { return x.add(y); }

    /** One input requires grad: the same plus recording an autograd node. */
    @Benchmark
    public Tensor mul16Grad() { return xg.mul(y); }
}
