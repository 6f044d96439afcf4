package dev.kiln.eager.optim;

import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adagrad as PyTorch 1.13: the step is divided by the root of the summed squared gradients;
 * the learning rate decays as lr / (1 + (t - 1) * lrDecay).
 */
public final class Adagrad extends Optimizer {
    private Adagrad(List<ParamGroup> groups, Map<String, Object> defaults) { super("Adagrad", groups, defaults); }

    public static Builder builder(List<Tensor> params) { return new Builder(OptimizerBuilder.oneGroup(params)); }

    public static Builder builder(ParamGroup... groups) { return new Builder(List.of(groups)); }

    @Override
    protected void validate(ParamGroup g) {
        requireAtLeast(g, "lr", 0, "learning rate");
        requireAtLeast(g, "lr_decay", 0, "lr_decay value");
        requireAtLeast(g, "weight_decay", 0, "weight_decay value");
        requireAtLeast(g, "initial_accumulator_value", 0, "initial_accumulator_value");
        requireAtLeast(g, "eps", 0, "epsilon value");
    }

    @Override
    protected void update(Tensor param, Tensor grad, ParamGroup g, Map<String, Object> state) {
        if (!state.containsKey("sum")) {
            state.put("sum", Tensor.fullLike(param, g.getDouble("initial_accumulator_value")));
        }
        Tensor step = Optimizer.incrementStep(state).to(DType.FLOAT64);
        Tensor sum = (Tensor) state.get("sum");
        Tensor gr = g.getBoolean("maximize") ? grad.neg() : grad;
        double weightDecay = g.getDouble("weight_decay");
        if (weightDecay != 0) gr = gr.add(param, weightDecay);
        Tensor clr = Tensor.scalar(g.lr(), DType.FLOAT64).div(step.sub(1.0).mul(g.getDouble("lr_decay")).add(1.0));
        sum.add_(gr.mul(gr));
        Tensor std = sum.sqrt().add(g.getDouble("eps"));
        param.add_(gr.div(std).mul(clr.neg()));
    }

    public static final class Builder extends OptimizerBuilder<Builder, Adagrad> {
        private Builder(List<ParamGroup> groups) { super(groups, defaults()); }

        private static Map<String, Object> defaults() {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("lr", 1e-2);
            d.put("lr_decay", 0.0);
            d.put("weight_decay", 0.0);
            d.put("initial_accumulator_value", 0.0);
            d.put("eps", 1e-10);
            d.put("maximize", false);
            return d;
        }

        public Builder lrDecay(double lrDecay) { return put("lr_decay", lrDecay); }

        public Builder initialAccumulatorValue(double value) { return put("initial_accumulator_value", value); }

        public Builder eps(double eps) { return put("eps", eps); }

        @Override
        public Adagrad build() { return new Adagrad(groups, options); }
    }
}
