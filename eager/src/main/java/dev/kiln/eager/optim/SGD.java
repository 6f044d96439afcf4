package dev.kiln.eager.optim;

import dev.kiln.eager.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and
 * weight decay; the update is PyTorch 1.13's single-tensor {@code sgd}. The momentum buffer
 * starts as a copy of the first gradient (not zero), as in PyTorch.
 */
public final class SGD extends Optimizer {
    private SGD(List<ParamGroup> groups, Map<String, Object> defaults) { super("SGD", groups, defaults); }

    public static Builder builder(List<Tensor> params) { return new Builder(OptimizerBuilder.oneGroup(params)); }

    public static Builder builder(ParamGroup... groups) { return new Builder(List.of(groups)); }

    @Override
    protected void validate(ParamGroup g) {
        if (!g.has("lr") || Double.isNaN(g.lr())) throw new IllegalArgumentException("SGD: lr is required (set it with builder.lr(...))");
        requireAtLeast(g, "lr", 0, "learning rate");
        requireAtLeast(g, "momentum", 0, "momentum value");
        requireAtLeast(g, "weight_decay", 0, "weight_decay value");
        if (g.getBoolean("nesterov") && (g.getDouble("momentum") <= 0 || g.getDouble("dampening") != 0)) {
            throw new IllegalArgumentException("SGD: Nesterov momentum requires a momentum and zero dampening (momentum="
                    + g.getDouble("momentum") + ", dampening=" + g.getDouble("dampening") + ")");
        }
    }

    @Override
    protected void update(Tensor param, Tensor grad, ParamGroup g, Map<String, Object> state) {
        double lr = g.lr(), momentum = g.getDouble("momentum"), dampening = g.getDouble("dampening");
        double weightDecay = g.getDouble("weight_decay");
        Tensor d = g.getBoolean("maximize") ? grad.neg() : grad;
        if (weightDecay != 0) d = d.add(param, weightDecay);
        if (momentum != 0) {
            Tensor buf = (Tensor) state.get("momentum_buffer");
            if (buf == null) {
                buf = d.detach().clone();
                state.put("momentum_buffer", buf);
            } else {
                buf.mul_(momentum).add_(d, 1 - dampening);
            }
            d = g.getBoolean("nesterov") ? d.add(buf, momentum) : buf;
        }
        param.add_(d, -lr);
    }

    public static final class Builder extends OptimizerBuilder<Builder, SGD> {
        private Builder(List<ParamGroup> groups) { super(groups, defaults()); }

        private static Map<String, Object> defaults() {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("lr", Double.NaN); // required, as in PyTorch: validate() names it when missing
            d.put("momentum", 0.0);
            d.put("dampening", 0.0);
            d.put("weight_decay", 0.0);
            d.put("nesterov", false);
            d.put("maximize", false);
            return d;
        }

        public Builder momentum(double momentum) { return put("momentum", momentum); }

        public Builder dampening(double dampening) { return put("dampening", dampening); }

        public Builder nesterov(boolean nesterov) { return put("nesterov", nesterov); }

        @Override
        public SGD build() { return new SGD(groups, options); }
    }
}
