package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.nn.functional.Reduction;

/** Huber-like loss with threshold beta, see F#smoothL1Loss. */
public class SmoothL1Loss extends Loss {
    public final Reduction reduction;
    public final double beta;

    public SmoothL1Loss() { this(Reduction.MEAN, 1.0); }

    public SmoothL1Loss(Reduction reduction, double beta) {
        this.reduction = reduction;
        this.beta = beta;
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) { return F.smoothL1Loss(input, target, reduction, beta); }
}
