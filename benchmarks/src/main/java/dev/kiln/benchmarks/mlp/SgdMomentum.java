package dev.kiln.benchmarks.mlp;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import java.util.List;

/**
 * torch.optim.SGD with momentum (dampening 0, no Nesterov, no weight decay): buf = μ·buf + g,
 * p -= lr·buf, with buf = g on the first step. In-place updates under noGrad, so the update is
 * not recorded and the parameters stay leaves.
 */
public final class SgdMomentum {
    private final List<Tensor> params;
    private final double lr;
    private final double momentum;
    private final Tensor[] buffers;

    public SgdMomentum(List<Tensor> params, double lr, double momentum) {
        this.params = List.copyOf(params);
        this.lr = lr;
        this.momentum = momentum;
        this.buffers = new Tensor[params.size()];
    }

    /**
     * Drops the gradients (PyTorch 2's set_to_none default; the peer's torch 1.13 zeroes in place
     * instead). Same result: Kiln's AccumulateGrad adds out of place, so zeroing would only add
     * two passes over each gradient.
     */
    public void zeroGrad() {
        for (Tensor p : params) p.setGrad(null);
    }

    public void step() {
        try (var ng = Autograd.noGrad()) {
            for (int i = 0; i < params.size(); i++) {
                Tensor p = params.get(i), g = p.grad();
                if (g == null) continue;
                if (buffers[i] == null) buffers[i] = g.clone();
                else buffers[i].mul_(momentum).add_(g);
                p.add_(buffers[i], -lr);
            }
        }
    }
}
