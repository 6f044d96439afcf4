package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.nn.functional.Reduction;

/** torch.nn.HuberLoss: quadratic below delta, linear beyond, see F#huberLoss. */
public class HuberLoss extends Loss {
    public final Reduction reduction;
    public final double delta;

    public HuberLoss() { this(Reduction.MEAN, 1.0); }

    public HuberLoss(Reduction reduction, double delta) {
        if (!(delta > 0)) throw new IllegalArgumentException("HuberLoss: delta must be positive, got " + delta);
        this.reduction = reduction;
        this.delta = delta;
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) { return F.huberLoss(input, target, reduction, delta); }
}
