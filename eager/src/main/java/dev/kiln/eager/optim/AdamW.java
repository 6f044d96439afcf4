package dev.kiln.eager.optim;

import dev.kiln.eager.Tensor;
import java.util.List;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter): Adam with weight decay decoupled from the gradient
 * (the parameter shrinks by lr * weightDecay each step). Default weight decay 1e-2.
 * Bias correction as PyTorch 1.13: step size lr / (1 - beta1^t), denominator
 * sqrt(v) / sqrt(1 - beta2^t) + eps.
 */
public final class AdamW extends Optimizer {
    private AdamW(List<ParamGroup> groups, Map<String, Object> defaults) { super("AdamW", groups, defaults); }

    public static Builder builder(List<Tensor> params) { return new Builder(OptimizerBuilder.oneGroup(params)); }

    public static Builder builder(ParamGroup... groups) { return new Builder(List.of(groups)); }

    @Override
    protected void validate(ParamGroup g) { AdamUpdate.validate(g); }

    @Override
    protected void update(Tensor param, Tensor grad, ParamGroup g, Map<String, Object> state) {
        AdamUpdate.update(param, grad, g, state, true);
    }

    public static final class Builder extends OptimizerBuilder<Builder, AdamW> {
        private Builder(List<ParamGroup> groups) { super(groups, AdamUpdate.defaults(1e-2)); }

        public Builder betas(double beta1, double beta2) { return put("betas", List.of(beta1, beta2)); }

        public Builder eps(double eps) { return put("eps", eps); }

        public Builder amsgrad(boolean amsgrad) { return put("amsgrad", amsgrad); }

        @Override
        public AdamW build() { return new AdamW(groups, options); }
    }
}
