package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.CrossEntropyOptions;
import dev.kiln.eager.nn.functional.F;

/** Cross entropy of logits against class indices or probabilities; see {@link F#crossEntropy}. */
public class CrossEntropyLoss extends Loss {
    public final CrossEntropyOptions options;

    public CrossEntropyLoss() { this(CrossEntropyOptions.DEFAULT); }

    public CrossEntropyLoss(CrossEntropyOptions options) {
        this.options = options;
        registerBuffer("weight", options.weight());
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) { return F.crossEntropy(input, target, options); }
}
