package dev.kiln.benchmarks.jmh;

import dev.kiln.Kiln;
import dev.kiln.backend.cpu.gemm.Gemm;
import dev.kiln.backend.cpu.gemm.GemmProvider;
import dev.kiln.eager.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.Warmup;

/**
 * float32 C[m,n] = A[m,k] · B[k,n]. GFLOP/s = ops/s × 2·m·n·k / 1e9.
 *
 * <p>{@code layout} says which operand is a transposed view ({@code Tensor.t()} of a
 * contiguous [k,m] or [n,k] tensor): the GEMM must handle column-major operands without a copy,
 * which is what the backward pass of a linear layer feeds it. {@code matmul} goes through the
 * eager dispatcher; {@code kernel} calls {@link GemmProvider#get()} directly into a reused C,
 * so the difference between the two is dispatch plus output allocation.
 */
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class GemmBench extends KilnBenchmark {
    /** m x k x n: square sizes, then an MLP layer at batch 64 and at batch 1 (a matrix-vector product). */
    @Param({"256x256x256", "512x512x512", "1024x1024x1024", "64x784x256", "1x784x256"})
    public String mkn;

    /** NN: both contiguous; TN: A is a transposed view; NT: B is a transposed view. */
    @Param({"NN", "TN", "NT"})
    public String layout;

    private Tensor a;
    private Tensor b;
    private float[] c;
    private Gemm gemm;

    @Setup
    public void setup() {
        String[] d = mkn.split("x");
        int m = Integer.parseInt(d[0]), k = Integer.parseInt(d[1]), n = Integer.parseInt(d[2]);
        Kiln.manualSeed(0);
        a = layout.charAt(0) == 'T' ? Tensor.randn(k, m).t() : Tensor.randn(m, k);
        b = layout.charAt(1) == 'T' ? Tensor.randn(n, k).t() : Tensor.randn(k, n);
        c = new float[m * n];
        gemm = GemmProvider.get();
    }

    @Benchmark
    public Tensor matmul() { return a.matmul(b); }

    @Benchmark
    public float[] kernel() {
        var x = a.data();
        var y = b.data();
        int m = x.shape()[0], k = x.shape()[1], n = y.shape()[1];
        gemm.sgemm(m, n, k, x.storage().f32(), x.offset(), x.strides()[0], x.strides()[1],
                y.storage().f32(), y.offset(), y.strides()[0], y.strides()[1], c, 0, n, false);
        return c;
    }
}
