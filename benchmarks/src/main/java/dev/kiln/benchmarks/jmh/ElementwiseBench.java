package dev.kiln.benchmarks.jmh;

import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * Eager float32 elementwise ops, output allocated per call (as in user code).
 * At n = 16 this measures the dispatch path (ops/s = 1e6 / µs per op); at n = 2^20 it measures
 * memory bandwidth: GB/s = ops/s × 4·n·(inputs + 1) / 1e9, i.e. 12·n bytes for add and mul,
 * 8·n for gelu.
 */
public class ElementwiseBench extends KilnBenchmark {
    @Param({"16", "1048576"})
    public int n;

    private Tensor x;
    private Tensor y;

    @Setup
    public void setup() {
        Kiln.manualSeed(0);
        x = Tensor.randn(n);
        y = Tensor.randn(n);
    }

    @Benchmark
    public Tensor add() { return x.add(y); }

    @Benchmark
    public Tensor mul() { return x.mul(y); }

    @Benchmark
    public Tensor gelu() { return x.gelu(); }
}
