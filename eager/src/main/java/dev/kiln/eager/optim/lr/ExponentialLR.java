package dev.kiln.eager.optim.lr;

import dev.kiln.eager.optim.Optimizer;
import java.util.Map;

/** Multiplies the lr by {@code gamma} every epoch. */
public final class ExponentialLR extends LRScheduler {
    private final double gamma;

    public ExponentialLR(Optimizer optimizer, double gamma) {
        super(optimizer);
        this.gamma = gamma;
        initialStep();
    }

    @Override
    protected double[] computeLr() {
        double[] lrs = currentLrs();
        if (lastEpoch == 0) return lrs;
        for (int i = 0; i < lrs.length; i++) lrs[i] *= gamma;
        return lrs;
    }

    @Override
    protected Map<String, Object> hyperparameters() { return Map.of("gamma", gamma); }
}
