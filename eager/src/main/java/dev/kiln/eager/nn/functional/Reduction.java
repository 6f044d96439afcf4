package dev.kiln.eager.nn.functional;

import dev.kiln.eager.Tensor;

/**
 * How a loss combines its per-element values, as PyTorch's {@code reduction=}. BATCH_MEAN
 * ({@code 'batchmean'}: the sum divided by the batch size) is kl_div's alone, as in PyTorch.
 */
public enum Reduction {
    NONE, MEAN, SUM, BATCH_MEAN;

    Tensor apply(Tensor loss) {
        return switch (this) {
            case NONE -> loss;
            case MEAN -> loss.mean();
            case SUM -> loss.sum();
            case BATCH_MEAN -> throw new IllegalArgumentException("reduction 'batchmean' is kl_div's only (use MEAN, SUM or NONE)");
        };
    }
}
