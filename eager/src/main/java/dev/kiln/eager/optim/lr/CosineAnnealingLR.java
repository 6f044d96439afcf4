package dev.kiln.eager.optim.lr;

import dev.kiln.eager.optim.Optimizer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Cosine annealing from the initial lr to {@code etaMin} over {@code tMax} epochs, then back
 * up again (the schedule is periodic with period 2 * tMax, as PyTorch's recursive form is).
 */
public final class CosineAnnealingLR extends LRScheduler {
    private final int tMax;
    private final double etaMin;

    public CosineAnnealingLR(Optimizer optimizer, int tMax) { this(optimizer, tMax, 0.0); }

    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin) {
        super(optimizer);
        if (tMax <= 0) throw new IllegalArgumentException("CosineAnnealingLR: tMax must be positive, got " + tMax);
        this.tMax = tMax;
        this.etaMin = etaMin;
        initialStep();
    }

    @Override
    protected double[] computeLr() {
        double[] lrs = currentLrs();
        if (lastEpoch == 0) return lrs;
        if (Math.floorMod(lastEpoch - 1 - tMax, 2 * tMax) == 0) {
            // Just past a minimum the recursive ratio below is 0/0; PyTorch adds the increment instead.
            for (int i = 0; i < lrs.length; i++) lrs[i] += (baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / tMax)) / 2;
            return lrs;
        }
        double ratio = (1 + Math.cos(Math.PI * lastEpoch / tMax)) / (1 + Math.cos(Math.PI * (lastEpoch - 1) / tMax));
        for (int i = 0; i < lrs.length; i++) lrs[i] = ratio * (lrs[i] - etaMin) + etaMin;
        return lrs;
    }

    @Override
    protected Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("T_max", tMax);
        m.put("eta_min", etaMin);
        return m;
    }
}
