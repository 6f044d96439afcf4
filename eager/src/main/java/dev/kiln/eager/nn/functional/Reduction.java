package dev.kiln.eager.nn.functional;

import dev.kiln.eager.Tensor;

/** How a loss combines its per-element values, as PyTorch's {@code reduction=}. */
public enum Reduction {
    NONE, MEAN, SUM;

    Tensor apply(Tensor loss) {
        return switch (this) {
            case NONE -> loss;
            case MEAN -> loss.mean();
            case SUM -> loss.sum();
        };
    }
}
