package dev.kiln.benchmarks.mlp;

import dev.kiln.eager.Tensor;

/** Mean cross-entropy of logits [N,C] against int64 class indices [N], as F.cross_entropy. */
public final class CrossEntropy {
    private CrossEntropy() {}

    public static Tensor of(Tensor logits, Tensor targets) {
        return logits.logSoftmax(1).gather(1, targets.unsqueeze(1)).mean().neg();
    }
}
