package dev.kiln.eager.optim.lr;

import dev.kiln.eager.optim.Optimizer;
import java.util.LinkedHashMap;
import java.util.Map;

/** Multiplies the lr by {@code gamma} every {@code stepSize} epochs. */
public final class StepLR extends LRScheduler {
    private final int stepSize;
    private final double gamma;

    public StepLR(Optimizer optimizer, int stepSize) { this(optimizer, stepSize, 0.1); }

    public StepLR(Optimizer optimizer, int stepSize, double gamma) {
        super(optimizer);
        if (stepSize <= 0) throw new IllegalArgumentException("StepLR: stepSize must be positive, got " + stepSize);
        this.stepSize = stepSize;
        this.gamma = gamma;
        initialStep();
    }

    @Override
    protected double[] computeLr() {
        double[] lrs = currentLrs();
        if (lastEpoch == 0 || lastEpoch % stepSize != 0) return lrs;
        for (int i = 0; i < lrs.length; i++) lrs[i] *= gamma;
        return lrs;
    }

    @Override
    protected Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step_size", stepSize);
        m.put("gamma", gamma);
        return m;
    }
}
