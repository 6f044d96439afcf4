package dev.kiln.benchmarks.mlp;

import dev.kiln.eager.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The side-by-side MLP, 784-256-ReLU-128-ReLU-10, written with plain Tensor ops so it runs before
 * dev.kiln.eager.nn exists; replace it with an nn.Sequential once that lands. Layout and
 * initialization follow torch.nn.Linear (weight [out,in], y = x·Wᵀ + b, both drawn from
 * U(-1/√in, 1/√in)), so both sides run the same GEMM shapes: addmm with a transposed view.
 */
public final class Mlp {
    private final List<Tensor> weights = new ArrayList<>();
    private final List<Tensor> biases = new ArrayList<>();

    public Mlp(int... widths) {
        for (int i = 0; i + 1 < widths.length; i++) {
            double bound = 1 / Math.sqrt(widths[i]);
            weights.add(uniform(bound, widths[i + 1], widths[i]));
            biases.add(uniform(bound, widths[i + 1]));
        }
    }

    private static Tensor uniform(double bound, int... shape) {
        return Tensor.rand(shape).mul(2 * bound).sub(bound).requiresGrad(true);
    }

    /** Linear layers with ReLU between them, none after the last (logits). */
    public Tensor forward(Tensor x) {
        Tensor h = x;
        for (int i = 0; i < weights.size(); i++) {
            h = Tensor.addmm(biases.get(i), h, weights.get(i).t());
            if (i + 1 < weights.size()) h = h.relu();
        }
        return h;
    }

    /** Weights and biases, in layer order (the order the optimizer keeps its state in). */
    public List<Tensor> parameters() {
        List<Tensor> p = new ArrayList<>();
        for (int i = 0; i < weights.size(); i++) {
            p.add(weights.get(i));
            p.add(biases.get(i));
        }
        return p;
    }
}
