package dev.kiln.eager.optim;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.autograd.AutogradScope;
import java.util.ArrayList;
import java.util.List;

/**
 * Gradient clipping as {@code torch.nn.utils.clip_grad_norm_} / {@code clip_grad_value_}.
 * The scaling is a tensor op even when nothing is clipped (no {@code item()} branch), so a
 * traced training step does not specialize on the norm.
 */
public final class ClipGrad {
    private ClipGrad() {}

    /** {@link #clipGradNorm(List, double, double)} with the 2-norm. */
    public static Tensor clipGradNorm(List<Tensor> params, double maxNorm) { return clipGradNorm(params, maxNorm, 2.0); }

    /**
     * Scales all gradients together so that their joint {@code normType}-norm (the norm of
     * the per-tensor norms) is at most {@code maxNorm}; returns that norm before clipping as a
     * scalar tensor. {@code normType} is a positive number or {@code Double.POSITIVE_INFINITY}.
     */
    public static Tensor clipGradNorm(List<Tensor> params, double maxNorm, double normType) {
        if (!(normType > 0)) throw new IllegalArgumentException("clipGradNorm: normType must be positive or infinity, got " + normType);
        if (!(maxNorm >= 0)) throw new IllegalArgumentException("clipGradNorm: maxNorm must be >= 0, got " + maxNorm);
        List<Tensor> grads = new ArrayList<>();
        for (Tensor p : params) if (p.grad() != null) grads.add(p.grad());
        try (AutogradScope ignored = Autograd.noGrad()) {
            if (grads.isEmpty()) return Tensor.scalar(0.0);
            List<Tensor> norms = new ArrayList<>();
            for (Tensor g : grads) norms.add(norm(g.detach(), normType));
            Tensor total = norm(Tensor.stack(norms, 0), normType);
            // 1e-6 keeps the division finite for zero gradients (PyTorch's constant).
            Tensor coef = Tensor.scalar(maxNorm, total.dtype()).div(total.add(1e-6)).clampMax(1.0);
            for (Tensor g : grads) g.mul_(coef);
            return total;
        }
    }

    /** Clamps every gradient element into [-clipValue, clipValue]. */
    public static void clipGradValue(List<Tensor> params, double clipValue) {
        if (!(clipValue >= 0)) throw new IllegalArgumentException("clipGradValue: clipValue must be >= 0, got " + clipValue);
        try (AutogradScope ignored = Autograd.noGrad()) {
            for (Tensor p : params) if (p.grad() != null) p.grad().clamp_(-clipValue, clipValue);
        }
    }

    private static Tensor norm(Tensor t, double p) {
        if (Double.isInfinite(p)) return t.abs().amax();
        if (p == 2.0) return t.mul(t).sum().sqrt();
        if (p == 1.0) return t.abs().sum();
        return t.abs().pow(p).sum().pow(1.0 / p);
    }
}
