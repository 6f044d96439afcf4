package dev.kiln.benchmarks;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import java.util.Map;

/** The single-op rows of torch_bench.py (GEMM, dispatch cost, a bandwidth-bound chain) and chain1M_traced. */
final class KernelRows {
    private KernelRows() {}

    static void run(Report report) {
        for (int n : new int[] {256, 512, 1024}) {
            Tensor a = Tensor.randn(n, n), b = Tensor.randn(n, n);
            double ms = Median.ms(() -> a.matmul(b), 20, 5);
            report.msWithGflops("sgemm" + n, ms, 2.0 * n * n * n / ms / 1e6);
        }

        Tensor x = Tensor.randn(16), y = Tensor.randn(16);
        report.ms("add16_eager_us", Median.ms(() -> x.add(y), 20000, 1000) * 1e3);
        Tensor xg = Tensor.randn(16).requiresGrad(true);
        report.ms("mul16_grad_us", Median.ms(() -> xg.mul(y), 20000, 1000) * 1e3);

        Tensor big = Tensor.randn(1 << 20), w = Tensor.randn(1 << 20), bb = Tensor.randn(1 << 20);
        try (var ng = Autograd.noGrad()) {
            report.ms("chain1M_eager", Median.ms(() -> big.mul(w).add(bb).gelu(), 50, 5));
        }
        // Kiln-only: the same chain traced and compiled into one fused loop; w and b are
        // parameters, as they would be in a model, and the repetitions are chain1M_eager's.
        CompiledInference chain = CompiledInference.fixedShape("chain1M", t -> t.mul(w).add(bb).gelu(), big, Map.of("w", w, "b", bb));
        report.ms("chain1M_traced", Median.ms(chain.verifiedRunner("chain1M_traced", big, t -> t.mul(w).add(bb).gelu()), 50, 5));
    }
}
