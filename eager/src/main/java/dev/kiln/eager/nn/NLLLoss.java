package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.nn.functional.Reduction;

/** Negative log-likelihood of log-probabilities; the class weight is a buffer, as PyTorch. */
public class NLLLoss extends Loss {
    public final Reduction reduction;
    public final long ignoreIndex;
    public final Tensor weight;

    public NLLLoss() { this(null, -100, Reduction.MEAN); }

    public NLLLoss(Tensor weight, long ignoreIndex, Reduction reduction) {
        this.weight = registerBuffer("weight", weight);
        this.ignoreIndex = ignoreIndex;
        this.reduction = reduction;
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) { return F.nllLoss(input, target, weight, ignoreIndex, reduction); }
}
