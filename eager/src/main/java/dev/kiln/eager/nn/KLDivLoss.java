package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.nn.functional.Reduction;

/**
 * torch.nn.KLDivLoss: the input is log-probabilities, the target probabilities (or
 * log-probabilities with logTarget). PyTorch's default reduction is 'mean' over all elements;
 * Reduction.BATCH_MEAN is the KL divergence per sample, as the PyTorch docs recommend.
 */
public class KLDivLoss extends Loss {
    public final Reduction reduction;
    public final boolean logTarget;

    public KLDivLoss() { this(Reduction.MEAN, false); }

    public KLDivLoss(Reduction reduction, boolean logTarget) {
        this.reduction = reduction;
        this.logTarget = logTarget;
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) { return F.klDiv(input, target, reduction, logTarget); }
}
