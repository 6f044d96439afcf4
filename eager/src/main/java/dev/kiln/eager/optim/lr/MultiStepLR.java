package dev.kiln.eager.optim.lr;

import dev.kiln.eager.optim.Optimizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Multiplies the lr by {@code gamma} at each milestone epoch; a milestone listed k times
 * multiplies by gamma^k (PyTorch counts milestones with a Counter).
 */
public final class MultiStepLR extends LRScheduler {
    private final Map<Integer, Integer> milestones = new TreeMap<>();
    private final List<Integer> milestoneList = new ArrayList<>();
    private final double gamma;

    public MultiStepLR(Optimizer optimizer, int[] milestones) { this(optimizer, milestones, 0.1); }

    public MultiStepLR(Optimizer optimizer, int[] milestones, double gamma) {
        super(optimizer);
        for (int m : milestones) {
            if (m < 0) throw new IllegalArgumentException("MultiStepLR: milestones must be >= 0, got " + m);
            this.milestones.merge(m, 1, Integer::sum);
            milestoneList.add(m);
        }
        this.gamma = gamma;
        initialStep();
    }

    @Override
    protected double[] computeLr() {
        double[] lrs = currentLrs();
        Integer count = milestones.get(lastEpoch);
        if (count == null) return lrs;
        double factor = Math.pow(gamma, count);
        for (int i = 0; i < lrs.length; i++) lrs[i] *= factor;
        return lrs;
    }

    @Override
    protected Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("milestones", List.copyOf(milestoneList));
        m.put("gamma", gamma);
        return m;
    }
}
