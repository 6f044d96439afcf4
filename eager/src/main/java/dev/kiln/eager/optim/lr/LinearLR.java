package dev.kiln.eager.optim.lr;

import dev.kiln.eager.optim.Optimizer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Scales the lr linearly from {@code startFactor} to {@code endFactor} times the initial lr
 * over {@code totalIters} steps, then holds it: the usual warm-up.
 */
public final class LinearLR extends LRScheduler {
    private final double startFactor;
    private final double endFactor;
    private final int totalIters;

    /** PyTorch's defaults: from 1/3 to 1 over 5 steps. */
    public LinearLR(Optimizer optimizer) { this(optimizer, 1.0 / 3, 1.0, 5); }

    public LinearLR(Optimizer optimizer, double startFactor, double endFactor, int totalIters) {
        super(optimizer);
        if (!(startFactor > 0 && startFactor <= 1)) throw new IllegalArgumentException("LinearLR: startFactor must be in (0, 1], got " + startFactor);
        if (!(endFactor >= 0 && endFactor <= 1)) throw new IllegalArgumentException("LinearLR: endFactor must be in [0, 1], got " + endFactor);
        if (totalIters <= 0) throw new IllegalArgumentException("LinearLR: totalIters must be positive, got " + totalIters);
        this.startFactor = startFactor;
        this.endFactor = endFactor;
        this.totalIters = totalIters;
        initialStep();
    }

    @Override
    protected double[] computeLr() {
        double[] lrs = currentLrs();
        if (lastEpoch == 0) {
            for (int i = 0; i < lrs.length; i++) lrs[i] *= startFactor;
            return lrs;
        }
        if (lastEpoch > totalIters) return lrs;
        double factor = 1.0 + (endFactor - startFactor) / (totalIters * startFactor + (lastEpoch - 1) * (endFactor - startFactor));
        for (int i = 0; i < lrs.length; i++) lrs[i] *= factor;
        return lrs;
    }

    @Override
    protected Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("start_factor", startFactor);
        m.put("end_factor", endFactor);
        m.put("total_iters", totalIters);
        return m;
    }
}
