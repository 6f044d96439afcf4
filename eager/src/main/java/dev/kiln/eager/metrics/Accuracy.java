package dev.kiln.eager.metrics;

import dev.kiln.eager.Tensor;

/** Fraction of correct predictions. */
public final class Accuracy {
    private Accuracy() {}

    /**
     * {@code predictions} are class indices [N] (int64) or scores [N, C] (argmax is taken);
     * {@code targets} are class indices [N].
     */
    public static double of(Tensor predictions, Tensor targets) {
        long[] p = Labels.predicted(predictions, "accuracy");
        long[] t = Labels.targets(targets, p.length, "accuracy");
        if (p.length == 0) throw new IllegalArgumentException("accuracy: no samples");
        int correct = 0;
        for (int i = 0; i < p.length; i++) if (p[i] == t[i]) correct++;
        return (double) correct / p.length;
    }
}
