package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.nn.functional.Reduction;

/** Binary cross entropy of probabilities. */
public class BCELoss extends Loss {
    public final Reduction reduction;
    public final Tensor weight;

    public BCELoss() { this(null, Reduction.MEAN); }

    public BCELoss(Tensor weight, Reduction reduction) {
        this.weight = registerBuffer("weight", weight);
        this.reduction = reduction;
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) { return F.binaryCrossEntropy(input, target, weight, reduction); }
}
