package dev.kiln.eager.metrics;

import dev.kiln.eager.Tensor;

/** Turns prediction and target tensors into label arrays, with messages that name the metric. */
final class Labels {
    private Labels() {}

    static long[] predicted(Tensor predictions, String metric) {
        if (predictions.dim() == 2) return predictions.argmax(1, false).toLongArray();
        if (predictions.dim() == 1 && !predictions.dtype().isFloatingPoint()) return predictions.toLongArray();
        throw new IllegalArgumentException(metric + ": predictions must be class indices [N] (integer) or scores [N, C], got " + predictions.typeString());
    }

    static long[] targets(Tensor targets, int n, String metric) {
        if (targets.dim() != 1 || targets.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(metric + ": targets must be class indices [N] (integer), got " + targets.typeString());
        }
        if (targets.shape(0) != n) throw new IllegalArgumentException(metric + ": " + n + " predictions but " + targets.shape(0) + " targets");
        return targets.toLongArray();
    }
}
