package dev.kiln.eager.nn.functional;

import dev.kiln.eager.Tensor;

/**
 * Options of {@link F#crossEntropy}: per-class weight (null = all 1), the target value to
 * ignore (class-index targets only), reduction and label smoothing in [0, 1].
 */
public record CrossEntropyOptions(Tensor weight, long ignoreIndex, Reduction reduction, double labelSmoothing) {
    public static final CrossEntropyOptions DEFAULT = new CrossEntropyOptions(null, -100, Reduction.MEAN, 0.0);

    public CrossEntropyOptions {
        if (reduction == null) throw new IllegalArgumentException("crossEntropy: reduction must not be null");
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException("crossEntropy: labelSmoothing must be in [0, 1], got " + labelSmoothing);
        }
    }

    public CrossEntropyOptions withWeight(Tensor w) { return new CrossEntropyOptions(w, ignoreIndex, reduction, labelSmoothing); }

    public CrossEntropyOptions withIgnoreIndex(long i) { return new CrossEntropyOptions(weight, i, reduction, labelSmoothing); }

    public CrossEntropyOptions withReduction(Reduction r) { return new CrossEntropyOptions(weight, ignoreIndex, r, labelSmoothing); }

    public CrossEntropyOptions withLabelSmoothing(double s) { return new CrossEntropyOptions(weight, ignoreIndex, reduction, s); }
}
