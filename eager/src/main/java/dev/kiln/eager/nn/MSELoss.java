package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.nn.functional.Reduction;

/** Squared error, see F#mseLoss. */
public class MSELoss extends Loss {
    public final Reduction reduction;

    public MSELoss() { this(Reduction.MEAN); }

    public MSELoss(Reduction reduction) { this.reduction = reduction; }

    @Override
    public Tensor forward(Tensor input, Tensor target) { return F.mseLoss(input, target, reduction); }
}
