package dev.kiln.eager.optim.lr;

import dev.kiln.eager.optim.Optimizer;
import dev.kiln.eager.optim.ParamGroup;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * torch.optim.lr_scheduler.ReduceLROnPlateau (PyTorch 1.13): scales every group's lr by
 * {@code factor} once a monitored metric has not improved for more than {@code patience} steps,
 * then waits {@code cooldown} steps before counting again; never below a group's {@code minLr},
 * and a change smaller than {@code eps} is skipped. Unlike the epoch schedulers it is stepped
 * with the metric: {@code step(validationLoss)}.
 */
public final class ReduceLROnPlateau {
    public enum Mode { MIN, MAX }

    public enum ThresholdMode { REL, ABS }

    private final Optimizer optimizer;
    private final Mode mode;
    private final double factor;
    private final int patience;
    private final double threshold;
    private final ThresholdMode thresholdMode;
    private final int cooldown;
    private final double[] minLrs;
    private final double eps;
    private double best;
    private int numBadEpochs;
    private int cooldownCounter;
    private int lastEpoch;
    private double[] lastLr;

    /** PyTorch's defaults: mode min, factor 0.1, patience 10, threshold 1e-4 relative, no cooldown, min lr 0, eps 1e-8. */
    public ReduceLROnPlateau(Optimizer optimizer) { this(optimizer, Mode.MIN, 0.1, 10, 1e-4, ThresholdMode.REL, 0, 0.0, 1e-8); }

    public ReduceLROnPlateau(Optimizer optimizer, Mode mode, double factor, int patience, double threshold, ThresholdMode thresholdMode,
                             int cooldown, double minLr, double eps) {
        this(optimizer, mode, factor, patience, threshold, thresholdMode, cooldown, filled(optimizer, minLr), eps);
    }

    /** One minimum lr per param group. */
    public ReduceLROnPlateau(Optimizer optimizer, Mode mode, double factor, int patience, double threshold, ThresholdMode thresholdMode,
                             int cooldown, double[] minLrs, double eps) {
        if (optimizer == null) throw new IllegalArgumentException("ReduceLROnPlateau: optimizer is null");
        if (!(factor < 1.0)) throw new IllegalArgumentException("ReduceLROnPlateau: factor should be < 1.0, got " + factor);
        if (patience < 0 || cooldown < 0) throw new IllegalArgumentException("ReduceLROnPlateau: patience and cooldown must be >= 0");
        if (minLrs.length != optimizer.paramGroups().size()) {
            throw new IllegalArgumentException("ReduceLROnPlateau: expected " + optimizer.paramGroups().size() + " min lrs, got " + minLrs.length);
        }
        this.optimizer = optimizer;
        this.mode = mode;
        this.factor = factor;
        this.patience = patience;
        this.threshold = threshold;
        this.thresholdMode = thresholdMode;
        this.cooldown = cooldown;
        this.minLrs = minLrs.clone();
        this.eps = eps;
        this.best = mode == Mode.MIN ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
        this.lastLr = currentLrs();
    }

    private static double[] filled(Optimizer o, double v) {
        double[] r = new double[o.paramGroups().size()];
        Arrays.fill(r, v);
        return r;
    }

    /** One step with this epoch's value of the monitored metric. */
    public void step(double metric) {
        lastEpoch++;
        if (isBetter(metric)) {
            best = metric;
            numBadEpochs = 0;
        } else {
            numBadEpochs++;
        }
        if (cooldownCounter > 0) {
            cooldownCounter--;
            numBadEpochs = 0; // bad epochs in cooldown are not counted
        }
        if (numBadEpochs > patience) {
            reduce();
            cooldownCounter = cooldown;
            numBadEpochs = 0;
        }
        lastLr = currentLrs();
    }

    private boolean isBetter(double a) {
        if (mode == Mode.MIN) return thresholdMode == ThresholdMode.REL ? a < best * (1 - threshold) : a < best - threshold;
        return thresholdMode == ThresholdMode.REL ? a > best * (threshold + 1) : a > best + threshold;
    }

    private void reduce() {
        List<ParamGroup> groups = optimizer.paramGroups();
        for (int i = 0; i < groups.size(); i++) {
            double old = groups.get(i).lr(), next = Math.max(old * factor, minLrs[i]);
            if (old - next > eps) groups.get(i).setLr(next);
        }
    }

    private double[] currentLrs() {
        List<ParamGroup> groups = optimizer.paramGroups();
        double[] r = new double[groups.size()];
        for (int i = 0; i < r.length; i++) r[i] = groups.get(i).lr();
        return r;
    }

    public double[] getLastLr() { return lastLr.clone(); }

    public int lastEpoch() { return lastEpoch; }

    public boolean inCooldown() { return cooldownCounter > 0; }

    /** PyTorch's state dict keys: the best value, the counters and the settings. */
    public Map<String, Object> stateDict() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mode", mode.name().toLowerCase());
        m.put("factor", factor);
        m.put("patience", patience);
        m.put("threshold", threshold);
        m.put("threshold_mode", thresholdMode.name().toLowerCase());
        m.put("cooldown", cooldown);
        m.put("min_lrs", Arrays.stream(minLrs).boxed().toList());
        m.put("eps", eps);
        m.put("best", best);
        m.put("num_bad_epochs", numBadEpochs);
        m.put("cooldown_counter", cooldownCounter);
        m.put("last_epoch", lastEpoch);
        m.put("_last_lr", Arrays.stream(lastLr).boxed().toList());
        return m;
    }

    /** Restores the counters and the best value; the settings must match this scheduler's. */
    public void loadStateDict(Map<String, Object> state) {
        for (String k : List.of("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "eps")) {
            if (state.containsKey(k) && !String.valueOf(state.get(k)).equals(String.valueOf(stateDict().get(k)))) {
                throw new IllegalArgumentException("ReduceLROnPlateau.loadStateDict: " + k + " is " + state.get(k) + " in the state, "
                        + stateDict().get(k) + " here");
            }
        }
        best = ((Number) state.get("best")).doubleValue();
        numBadEpochs = ((Number) state.get("num_bad_epochs")).intValue();
        cooldownCounter = ((Number) state.get("cooldown_counter")).intValue();
        lastEpoch = ((Number) state.get("last_epoch")).intValue();
        lastLr = currentLrs();
    }
}
