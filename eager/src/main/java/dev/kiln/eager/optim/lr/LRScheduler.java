package dev.kiln.eager.optim.lr;

import dev.kiln.eager.optim.Optimizer;
import dev.kiln.eager.optim.ParamGroup;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Base of the learning-rate schedulers, following PyTorch 1.13's {@code _LRScheduler}: the
 * constructor takes the first step (epoch 0), each {@link #step()} advances one epoch and
 * writes the new rate into every param group. Rates are computed in PyTorch's recursive
 * ("chainable") form from the group's current lr, so a scheduler composes with others and
 * with manual lr changes the way PyTorch's does; OneCycleLR uses its closed form, as PyTorch.
 */
public abstract class LRScheduler {
    protected final Optimizer optimizer;
    protected double[] baseLrs;
    protected int lastEpoch = -1;
    protected int stepCount;
    private double[] lastLr;

    protected LRScheduler(Optimizer optimizer) {
        if (optimizer == null) throw new IllegalArgumentException(getClass().getSimpleName() + ": optimizer is null");
        this.optimizer = optimizer;
    }

    /**
     * Records each group's initial lr and takes step 0. Subclasses call it last in their
     * constructor, once their own fields are set (PyTorch sets them before super().__init__).
     */
    protected final void initialStep() {
        List<ParamGroup> groups = optimizer.paramGroups();
        baseLrs = new double[groups.size()];
        for (int i = 0; i < groups.size(); i++) {
            ParamGroup g = groups.get(i);
            if (!g.has("initial_lr")) g.set("initial_lr", g.lr());
            baseLrs[i] = g.getDouble("initial_lr");
        }
        step();
    }

    /** The lr of each group at {@link #lastEpoch}, given the groups' current lrs. */
    protected abstract double[] computeLr();

    /** Settings that define the schedule; saved in the state dict and checked on load. */
    protected abstract Map<String, Object> hyperparameters();

    /** Advances one epoch (or one batch, for per-batch schedules) and updates the optimizer. */
    public void step() {
        stepCount++;
        lastEpoch++;
        double[] lrs = computeLr();
        List<ParamGroup> groups = optimizer.paramGroups();
        for (int i = 0; i < groups.size(); i++) groups.get(i).setLr(lrs[i]);
        lastLr = new double[groups.size()];
        for (int i = 0; i < groups.size(); i++) lastLr[i] = groups.get(i).lr();
    }

    /** The rate of each group after the last step. */
    public double[] getLastLr() { return lastLr.clone(); }

    public int lastEpoch() { return lastEpoch; }

    protected final double[] currentLrs() {
        List<ParamGroup> groups = optimizer.paramGroups();
        double[] out = new double[groups.size()];
        for (int i = 0; i < out.length; i++) out[i] = groups.get(i).lr();
        return out;
    }

    /** PyTorch's keys ({@code last_epoch}, {@code _step_count}, {@code base_lrs}, {@code _last_lr}) plus the settings. */
    public Map<String, Object> stateDict() {
        Map<String, Object> out = new LinkedHashMap<>(hyperparameters());
        out.put("base_lrs", toList(baseLrs));
        out.put("last_epoch", lastEpoch);
        out.put("_step_count", stepCount);
        out.put("_last_lr", toList(lastLr));
        return out;
    }

    /**
     * Restores the position in the schedule. The settings must match this scheduler's (a
     * resumed run with a different schedule is more likely a mistake than an intent).
     */
    public void loadStateDict(Map<String, ?> dict) {
        String name = getClass().getSimpleName();
        hyperparameters().forEach((k, v) -> {
            if (dict.containsKey(k) && !sameValue(v, dict.get(k))) {
                throw new IllegalArgumentException(name + ".loadStateDict: saved " + k + "=" + dict.get(k) + " differs from this scheduler's " + k + "=" + v
                        + "; build the scheduler with the saved settings");
            }
        });
        int groups = optimizer.paramGroups().size();
        double[] base = doubles(name, dict, "base_lrs", groups);
        double[] last = doubles(name, dict, "_last_lr", groups);
        lastEpoch = integer(name, dict, "last_epoch");
        stepCount = integer(name, dict, "_step_count");
        baseLrs = base;
        lastLr = last;
    }

    private static int integer(String name, Map<String, ?> dict, String key) {
        if (!(dict.get(key) instanceof Number n)) throw new IllegalArgumentException(name + ".loadStateDict: missing or non-numeric '" + key + "'");
        return n.intValue();
    }

    private static double[] doubles(String name, Map<String, ?> dict, String key, int expected) {
        if (!(dict.get(key) instanceof List<?> l)) throw new IllegalArgumentException(name + ".loadStateDict: missing or malformed '" + key + "'");
        if (l.size() != expected) throw new IllegalArgumentException(name + ".loadStateDict: '" + key + "' has " + l.size() + " values, the optimizer has " + expected + " param groups");
        double[] out = new double[expected];
        for (int i = 0; i < expected; i++) {
            if (!(l.get(i) instanceof Number n)) throw new IllegalArgumentException(name + ".loadStateDict: '" + key + "'[" + i + "] is not a number: " + l.get(i));
            out[i] = n.doubleValue();
        }
        return out;
    }

    private static boolean sameValue(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) return x.doubleValue() == y.doubleValue();
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size()) return false;
            for (int i = 0; i < x.size(); i++) if (!sameValue(x.get(i), y.get(i))) return false;
            return true;
        }
        return a.equals(b);
    }

    static List<Double> toList(double[] values) {
        List<Double> out = new ArrayList<>();
        for (double v : values) out.add(v);
        return out;
    }
}
