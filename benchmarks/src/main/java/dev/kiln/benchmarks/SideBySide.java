package dev.kiln.benchmarks;

import dev.kiln.Kiln;
import dev.kiln.benchmarks.lenet.LeNet;
import dev.kiln.benchmarks.mlp.CrossEntropy;
import dev.kiln.benchmarks.mlp.Mlp;
import dev.kiln.benchmarks.mlp.SgdMomentum;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.optim.SGD;

/**
 * Kiln's half of the side-by-side comparison: the workloads of ../shared/bench/torch_bench.py
 * with the same names, shapes, hyper-parameters, repetitions and warm-up, printed as the same
 * JSON lines. The traced variants are absent until the tracer can compile a graph;
 * run-side-by-side.sh shows them as missing rather than faking them.
 *
 * <p>The warm-up counts are PyTorch's, which is short for a JIT: on this protocol the small
 * workloads are still measured partly before C2 has compiled them (add16 reads ~2 µs on the first
 * pass and ~0.25 µs from the third). {@code --rounds N} repeats the whole suite N times and prints
 * only the last pass, the JVM's steady state; the default of 1 is torch_bench.py's protocol.
 */
public final class SideBySide {
    private SideBySide() {}

    /**
     * The most threads Kiln's CPU kernels use: GEMM and batched kernels (convolution, pooling)
     * split large work across the available processors.
     */
    private static final int THREADS = Runtime.getRuntime().availableProcessors();

    public static void main(String[] args) {
        boolean valid = args.length == 0 || args.length == 2 && args[0].equals("--rounds") && args[1].matches("[1-9][0-9]*");
        if (!valid) {
            System.err.println("usage: SideBySide [--rounds N]   (N >= 1; only the last round is printed)");
            System.exit(2);
        }
        int rounds = args.length == 0 ? 1 : Integer.parseInt(args[1]);
        for (int r = 1; r <= rounds; r++) run(r == rounds);
    }

    private static void run(boolean print) {
        Kiln.manualSeed(0);
        for (int n : new int[] {256, 512, 1024}) {
            Tensor a = Tensor.randn(n, n), b = Tensor.randn(n, n);
            double ms = Median.ms(() -> a.matmul(b), 20, 5);
            emit(print, JsonLine.withGflops("sgemm" + n, ms, THREADS, 2.0 * n * n * n / ms / 1e6));
        }

        Tensor x = Tensor.randn(16), y = Tensor.randn(16);
        emit(print, JsonLine.of("add16_eager_us", Median.ms(() -> x.add(y), 20000, 1000) * 1e3, THREADS));
        Tensor xg = Tensor.randn(16).requiresGrad(true);
        emit(print, JsonLine.of("mul16_grad_us", Median.ms(() -> xg.mul(y), 20000, 1000) * 1e3, THREADS));

        Tensor big = Tensor.randn(1 << 20), w = Tensor.randn(1 << 20), bb = Tensor.randn(1 << 20);
        try (var ng = Autograd.noGrad()) {
            emit(print, JsonLine.of("chain1M_eager", Median.ms(() -> big.mul(w).add(bb).gelu(), 50, 5), THREADS));
        }

        Mlp mlp = new Mlp(784, 256, 128, 10);
        SgdMomentum opt = new SgdMomentum(mlp.parameters(), 0.01, 0.9);
        Tensor xb = Tensor.randn(64, 784), yb = Tensor.randint(0, 10, 64);
        emit(print, JsonLine.of("mlp_train_b64", Median.ms(() -> {
            opt.zeroGrad();
            CrossEntropy.of(mlp.forward(xb), yb).backward();
            opt.step();
            return mlp;
        }, 200, 20), THREADS));
        try (var ng = Autograd.noGrad()) {
            emit(print, JsonLine.of("mlp_infer_b64", Median.ms(() -> mlp.forward(xb), 500, 50), THREADS));
            Tensor x1 = Tensor.randn(1, 784);
            emit(print, JsonLine.of("mlp_infer_b1", Median.ms(() -> mlp.forward(x1), 2000, 100), THREADS));
        }

        LeNet net = new LeNet();
        SGD opt2 = SGD.builder(net.parameters()).lr(0.01).momentum(0.9).build();
        Tensor xi = Tensor.randn(64, 1, 28, 28);
        emit(print, JsonLine.of("lenet_train_b64", Median.ms(() -> {
            opt2.zeroGrad();
            CrossEntropy.of(net.call(xi), yb).backward();
            opt2.step();
            return net;
        }, 50, 10), THREADS));
        try (var ng = Autograd.noGrad()) {
            emit(print, JsonLine.of("lenet_infer_b64", Median.ms(() -> net.call(xi), 100, 10), THREADS));
        }
    }

    /** Flushed per line: the runner script reads results while later workloads still run. */
    private static void emit(boolean print, String line) {
        if (!print) return;
        System.out.println(line);
        System.out.flush();
    }
}
