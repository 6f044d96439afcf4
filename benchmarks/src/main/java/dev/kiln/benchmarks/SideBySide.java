package dev.kiln.benchmarks;

import dev.kiln.Kiln;
import dev.kiln.benchmarks.mlp.CrossEntropy;
import dev.kiln.benchmarks.mlp.Mlp;
import dev.kiln.benchmarks.mlp.SgdMomentum;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;

/**
 * Kiln's half of the side-by-side comparison: the workloads of ../shared/bench/torch_bench.py
 * with the same names, shapes, hyper-parameters, repetitions and warm-up, printed as the same
 * JSON lines. The LeNet workloads are absent until conv2d exists, and the traced variant until
 * the tracer can compile a graph; run-side-by-side.sh shows them as missing rather than faking them.
 *
 * <p>The warm-up counts are PyTorch's, which is short for a JIT: early repetitions may still run
 * interpreted or C1-compiled code. The medians absorb most of that for the many-repetition
 * workloads; JMH (docs/benchmarks.md) gives the steady state.
 */
public final class SideBySide {
    private SideBySide() {}

    /** The CPU kernels are single-threaded in this build (torch_bench.py is run with 1 thread too). */
    private static final int THREADS = 1;

    public static void main(String[] args) {
        Kiln.manualSeed(0);
        for (int n : new int[] {256, 512, 1024}) {
            Tensor a = Tensor.randn(n, n), b = Tensor.randn(n, n);
            double ms = Median.ms(() -> a.matmul(b), 20, 5);
            emit(JsonLine.withGflops("sgemm" + n, ms, THREADS, 2.0 * n * n * n / ms / 1e6));
        }

        Tensor x = Tensor.randn(16), y = Tensor.randn(16);
        emit(JsonLine.of("add16_eager_us", Median.ms(() -> x.add(y), 20000, 1000) * 1e3, THREADS));
        Tensor xg = Tensor.randn(16).requiresGrad(true);
        emit(JsonLine.of("mul16_grad_us", Median.ms(() -> xg.mul(y), 20000, 1000) * 1e3, THREADS));

        Tensor big = Tensor.randn(1 << 20), w = Tensor.randn(1 << 20), bb = Tensor.randn(1 << 20);
        try (var ng = Autograd.noGrad()) {
            emit(JsonLine.of("chain1M_eager", Median.ms(() -> big.mul(w).add(bb).gelu(), 50, 5), THREADS));
        }

        Mlp mlp = new Mlp(784, 256, 128, 10);
        SgdMomentum opt = new SgdMomentum(mlp.parameters(), 0.01, 0.9);
        Tensor xb = Tensor.randn(64, 784), yb = Tensor.randint(0, 10, 64);
        emit(JsonLine.of("mlp_train_b64", Median.ms(() -> {
            opt.zeroGrad();
            CrossEntropy.of(mlp.forward(xb), yb).backward();
            opt.step();
            return mlp;
        }, 200, 20), THREADS));
        try (var ng = Autograd.noGrad()) {
            emit(JsonLine.of("mlp_infer_b64", Median.ms(() -> mlp.forward(xb), 500, 50), THREADS));
            Tensor x1 = Tensor.randn(1, 784);
            emit(JsonLine.of("mlp_infer_b1", Median.ms(() -> mlp.forward(x1), 2000, 100), THREADS));
        }
    }

    /** Flushed per line: the runner script reads results while later workloads still run. */
    private static void emit(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
