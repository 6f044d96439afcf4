package dev.kiln.eager.optim.lr;

import dev.kiln.eager.optim.Optimizer;
import dev.kiln.eager.optim.ParamGroup;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The 1cycle policy (Smith and Topin): lr rises from maxLr / divFactor to maxLr, then
 * anneals to initial / finalDivFactor, while momentum (or Adam's beta1) moves the opposite
 * way. Closed form over the step number, as PyTorch 1.13; step it once per batch.
 */
public final class OneCycleLR extends LRScheduler {
    /** How the lr moves between phase ends. */
    public enum Anneal { COS, LINEAR }

    private record Phase(double endStep, String startLr, String endLr, String startMomentum, String endMomentum) {}

    private final int totalSteps;
    private final Anneal anneal;
    private final boolean cycleMomentum;
    private final boolean useBeta1;
    private final List<Phase> phases;
    private final Builder settings;

    private OneCycleLR(Builder b) {
        super(b.optimizer);
        if (b.maxLrs == null) throw new IllegalArgumentException("OneCycleLR: maxLr is required");
        if (b.totalSteps == null) {
            if (b.epochs == null || b.stepsPerEpoch == null) throw new IllegalArgumentException("OneCycleLR: set totalSteps, or both epochs and stepsPerEpoch");
            if (b.epochs <= 0) throw new IllegalArgumentException("OneCycleLR: expected positive epochs, got " + b.epochs);
            if (b.stepsPerEpoch <= 0) throw new IllegalArgumentException("OneCycleLR: expected positive stepsPerEpoch, got " + b.stepsPerEpoch);
            totalSteps = Math.multiplyExact(b.epochs, b.stepsPerEpoch);
        } else {
            if (b.totalSteps <= 0) throw new IllegalArgumentException("OneCycleLR: expected positive totalSteps, got " + b.totalSteps);
            totalSteps = b.totalSteps;
        }
        if (!(b.pctStart >= 0 && b.pctStart <= 1)) throw new IllegalArgumentException("OneCycleLR: pctStart must be in [0, 1], got " + b.pctStart);
        this.anneal = b.anneal;
        this.cycleMomentum = b.cycleMomentum;
        this.settings = b;
        this.phases = b.threePhase
                ? List.of(new Phase(b.pctStart * totalSteps - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                        new Phase(2 * b.pctStart * totalSteps - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                        new Phase(totalSteps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"))
                : List.of(new Phase(b.pctStart * totalSteps - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                        new Phase(totalSteps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"));

        List<ParamGroup> groups = optimizer.paramGroups();
        double[] maxLrs = perGroup("maxLr", b.maxLrs, groups.size());
        for (int i = 0; i < groups.size(); i++) {
            ParamGroup g = groups.get(i);
            g.set("initial_lr", maxLrs[i] / b.divFactor);
            g.set("max_lr", maxLrs[i]);
            g.set("min_lr", maxLrs[i] / b.divFactor / b.finalDivFactor);
        }
        Map<String, Object> defaults = optimizer.defaults();
        this.useBeta1 = defaults.containsKey("betas");
        if (cycleMomentum) {
            if (!defaults.containsKey("momentum") && !useBeta1) {
                throw new IllegalArgumentException("OneCycleLR: optimizer must support momentum (or betas) with cycleMomentum enabled; disable it with cycleMomentum(false)");
            }
            double[] maxMomenta = perGroup("maxMomentum", b.maxMomenta, groups.size());
            double[] baseMomenta = perGroup("baseMomentum", b.baseMomenta, groups.size());
            for (int i = 0; i < groups.size(); i++) {
                ParamGroup g = groups.get(i);
                setMomentum(g, maxMomenta[i]);
                g.set("max_momentum", maxMomenta[i]);
                g.set("base_momentum", baseMomenta[i]);
            }
        }
        initialStep();
    }

    public static Builder builder(Optimizer optimizer) { return new Builder(optimizer); }

    private static double[] perGroup(String name, double[] values, int groups) {
        if (values.length == 1) {
            double[] out = new double[groups];
            java.util.Arrays.fill(out, values[0]);
            return out;
        }
        if (values.length != groups) throw new IllegalArgumentException("OneCycleLR: expected " + groups + " values for " + name + ", got " + values.length);
        return values.clone();
    }

    private void setMomentum(ParamGroup g, double m) {
        if (useBeta1) g.set("betas", List.of(m, g.betas()[1]));
        else g.set("momentum", m);
    }

    private double anneal(double start, double end, double pct) {
        if (anneal == Anneal.LINEAR) return (end - start) * pct + start;
        return end + (start - end) / 2.0 * (Math.cos(Math.PI * pct) + 1);
    }

    @Override
    protected double[] computeLr() {
        int stepNum = lastEpoch;
        if (stepNum > totalSteps) {
            throw new IllegalStateException("OneCycleLR: tried to step " + (stepNum + 1) + " times; the specified number of total steps is " + totalSteps);
        }
        List<ParamGroup> groups = optimizer.paramGroups();
        double[] lrs = new double[groups.size()];
        for (int gi = 0; gi < groups.size(); gi++) {
            ParamGroup g = groups.get(gi);
            double startStep = 0;
            for (int i = 0; i < phases.size(); i++) {
                Phase phase = phases.get(i);
                if (stepNum <= phase.endStep() || i == phases.size() - 1) {
                    double pct = (stepNum - startStep) / (phase.endStep() - startStep);
                    lrs[gi] = anneal(g.getDouble(phase.startLr()), g.getDouble(phase.endLr()), pct);
                    if (cycleMomentum) setMomentum(g, anneal(g.getDouble(phase.startMomentum()), g.getDouble(phase.endMomentum()), pct));
                    break;
                }
                startStep = phase.endStep();
            }
        }
        return lrs;
    }

    @Override
    protected Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("total_steps", totalSteps);
        m.put("pct_start", settings.pctStart);
        m.put("anneal_strategy", anneal == Anneal.COS ? "cos" : "linear");
        m.put("cycle_momentum", cycleMomentum);
        m.put("three_phase", phases.size() == 3);
        m.put("div_factor", settings.divFactor);
        m.put("final_div_factor", settings.finalDivFactor);
        return m;
    }

    /** Settings with PyTorch's defaults; maxLr and the length (totalSteps or epochs x stepsPerEpoch) are required. */
    public static final class Builder {
        private final Optimizer optimizer;
        private double[] maxLrs;
        private Integer totalSteps;
        private Integer epochs;
        private Integer stepsPerEpoch;
        private double pctStart = 0.3;
        private Anneal anneal = Anneal.COS;
        private boolean cycleMomentum = true;
        private double[] baseMomenta = {0.85};
        private double[] maxMomenta = {0.95};
        private double divFactor = 25.0;
        private double finalDivFactor = 1e4;
        private boolean threePhase;

        private Builder(Optimizer optimizer) { this.optimizer = optimizer; }

        /** One value for all groups, or one per group. */
        public Builder maxLr(double... maxLr) { this.maxLrs = maxLr.clone(); return this; }

        public Builder totalSteps(int totalSteps) { this.totalSteps = totalSteps; return this; }

        public Builder epochs(int epochs) { this.epochs = epochs; return this; }

        public Builder stepsPerEpoch(int stepsPerEpoch) { this.stepsPerEpoch = stepsPerEpoch; return this; }

        /** Fraction of the cycle spent increasing the lr. */
        public Builder pctStart(double pctStart) { this.pctStart = pctStart; return this; }

        public Builder annealStrategy(Anneal anneal) { this.anneal = anneal; return this; }

        public Builder cycleMomentum(boolean cycleMomentum) { this.cycleMomentum = cycleMomentum; return this; }

        public Builder baseMomentum(double... baseMomentum) { this.baseMomenta = baseMomentum.clone(); return this; }

        public Builder maxMomentum(double... maxMomentum) { this.maxMomenta = maxMomentum.clone(); return this; }

        /** initial lr = maxLr / divFactor. */
        public Builder divFactor(double divFactor) { this.divFactor = divFactor; return this; }

        /** min lr = initial lr / finalDivFactor. */
        public Builder finalDivFactor(double finalDivFactor) { this.finalDivFactor = finalDivFactor; return this; }

        /** Three phases (up, back down to the initial lr, then to the minimum) as in fastai's original. */
        public Builder threePhase(boolean threePhase) { this.threePhase = threePhase; return this; }

        public OneCycleLR build() { return new OneCycleLR(this); }
    }
}
