package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.nn.functional.Reduction;

/** Absolute error, see F#l1Loss. */
public class L1Loss extends Loss {
    public final Reduction reduction;

    public L1Loss() { this(Reduction.MEAN); }

    public L1Loss(Reduction reduction) { this.reduction = reduction; }

    @Override
    public Tensor forward(Tensor input, Tensor target) { return F.l1Loss(input, target, reduction); }
}
