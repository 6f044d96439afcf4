package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.nn.functional.Reduction;

/** Binary cross entropy of logits (numerically stable), with optional positive-class weight. */
public class BCEWithLogitsLoss extends Loss {
    public final Reduction reduction;
    public final Tensor weight, posWeight;

    public BCEWithLogitsLoss() { this(null, null, Reduction.MEAN); }

    public BCEWithLogitsLoss(Tensor weight, Tensor posWeight, Reduction reduction) {
        this.weight = registerBuffer("weight", weight);
        this.posWeight = registerBuffer("pos_weight", posWeight);
        this.reduction = reduction;
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) { return F.binaryCrossEntropyWithLogits(input, target, weight, posWeight, reduction); }
}
