package dev.kiln.eager.optim;

import dev.kiln.eager.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * RMSprop as PyTorch 1.13: a running average of squared gradients (decay {@code alpha})
 * scales the step; {@code centered} subtracts the squared running mean of the gradient (an
 * estimate of the variance); eps is added after the square root.
 */
public final class RMSprop extends Optimizer {
    private RMSprop(List<ParamGroup> groups, Map<String, Object> defaults) { super("RMSprop", groups, defaults); }

    public static Builder builder(List<Tensor> params) { return new Builder(OptimizerBuilder.oneGroup(params)); }

    public static Builder builder(ParamGroup... groups) { return new Builder(List.of(groups)); }

    @Override
    protected void validate(ParamGroup g) {
        requireAtLeast(g, "lr", 0, "learning rate");
        requireAtLeast(g, "eps", 0, "epsilon value");
        requireAtLeast(g, "momentum", 0, "momentum value");
        requireAtLeast(g, "weight_decay", 0, "weight_decay value");
        requireAtLeast(g, "alpha", 0, "alpha value");
    }

    @Override
    protected void update(Tensor param, Tensor grad, ParamGroup g, Map<String, Object> state) {
        double lr = g.lr(), alpha = g.getDouble("alpha"), eps = g.getDouble("eps");
        double momentum = g.getDouble("momentum"), weightDecay = g.getDouble("weight_decay");
        if (!state.containsKey("square_avg")) {
            state.put("square_avg", Tensor.zerosLike(param));
        }
        Optimizer.incrementStep(state);
        Tensor squareAvg = (Tensor) state.get("square_avg");
        Tensor gr = g.getBoolean("maximize") ? grad.neg() : grad;
        if (weightDecay != 0) gr = gr.add(param, weightDecay);
        squareAvg.mul_(alpha).add_(gr.mul(gr), 1 - alpha);
        Tensor avg;
        if (g.getBoolean("centered")) {
            Tensor gradAvg = (Tensor) state.computeIfAbsent("grad_avg", k -> Tensor.zerosLike(param));
            gradAvg.mul_(alpha).add_(gr, 1 - alpha);
            avg = squareAvg.sub(gradAvg.mul(gradAvg)).sqrt();
        } else {
            avg = squareAvg.sqrt();
        }
        avg = avg.add(eps);
        if (momentum > 0) {
            Tensor buf = (Tensor) state.computeIfAbsent("momentum_buffer", k -> Tensor.zerosLike(param));
            buf.mul_(momentum).add_(gr.div(avg));
            param.add_(buf, -lr);
        } else {
            param.add_(gr.div(avg), -lr);
        }
    }

    public static final class Builder extends OptimizerBuilder<Builder, RMSprop> {
        private Builder(List<ParamGroup> groups) { super(groups, defaults()); }

        private static Map<String, Object> defaults() {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("lr", 1e-2);
            d.put("alpha", 0.99);
            d.put("eps", 1e-8);
            d.put("weight_decay", 0.0);
            d.put("momentum", 0.0);
            d.put("centered", false);
            d.put("maximize", false);
            return d;
        }

        /** Decay of the running average of squared gradients. */
        public Builder alpha(double alpha) { return put("alpha", alpha); }

        public Builder eps(double eps) { return put("eps", eps); }

        public Builder momentum(double momentum) { return put("momentum", momentum); }

        public Builder centered(boolean centered) { return put("centered", centered); }

        @Override
        public RMSprop build() { return new RMSprop(groups, options); }
    }
}
