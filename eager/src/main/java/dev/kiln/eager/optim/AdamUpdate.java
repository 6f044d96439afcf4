package dev.kiln.eager.optim;

import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/** The Adam/AdamW update of PyTorch 1.13's single-tensor implementation, shared by both. */
final class AdamUpdate {
    private AdamUpdate() {}

    static Map<String, Object> defaults(double weightDecay) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("lr", 1e-3);
        d.put("betas", java.util.List.of(0.9, 0.999));
        d.put("eps", 1e-8);
        d.put("weight_decay", weightDecay);
        d.put("amsgrad", false);
        d.put("maximize", false);
        return d;
    }

    static void validate(ParamGroup g) {
        Optimizer.requireAtLeast(g, "lr", 0, "learning rate");
        Optimizer.requireAtLeast(g, "eps", 0, "epsilon value");
        Optimizer.requireAtLeast(g, "weight_decay", 0, "weight_decay value");
        double[] betas = g.betas();
        Optimizer.requireInRange(betas[0], "beta parameter at index 0");
        Optimizer.requireInRange(betas[1], "beta parameter at index 1");
    }

    /** {@code decoupled}: AdamW's weight decay (shrink the parameter) instead of Adam's L2 term in the gradient. */
    static void update(Tensor param, Tensor grad, ParamGroup g, Map<String, Object> state, boolean decoupled) {
        double lr = g.lr(), eps = g.getDouble("eps"), weightDecay = g.getDouble("weight_decay");
        double[] betas = g.betas();
        double beta1 = betas[0], beta2 = betas[1];
        boolean amsgrad = g.getBoolean("amsgrad");
        if (!state.containsKey("exp_avg")) {
            state.put("exp_avg", Tensor.zerosLike(param));
            state.put("exp_avg_sq", Tensor.zerosLike(param));
            if (amsgrad) state.put("max_exp_avg_sq", Tensor.zerosLike(param));
        }
        Tensor step = Optimizer.incrementStep(state).to(DType.FLOAT64);
        Tensor expAvg = (Tensor) state.get("exp_avg");
        Tensor expAvgSq = (Tensor) state.get("exp_avg_sq");

        Tensor gr = g.getBoolean("maximize") ? grad.neg() : grad;
        if (decoupled) {
            param.mul_(1 - lr * weightDecay);
        } else if (weightDecay != 0) {
            gr = gr.add(param, weightDecay);
        }
        expAvg.mul_(beta1).add_(gr, 1 - beta1);
        expAvgSq.mul_(beta2).add_(gr.mul(gr), 1 - beta2);

        // tensor math in f64 (PyTorch uses Python floats); 0-d operands do not widen the f32 update
        Tensor biasCorrection1 = Tensor.scalar(beta1, DType.FLOAT64).pow(step).rsub(1.0);
        Tensor biasCorrection2Sqrt = Tensor.scalar(beta2, DType.FLOAT64).pow(step).rsub(1.0).sqrt();
        Tensor stepSize = Tensor.scalar(lr, DType.FLOAT64).div(biasCorrection1);
        Tensor second = expAvgSq;
        if (amsgrad) {
            // A group may switch amsgrad on after some steps; start its running max from now.
            Tensor max = (Tensor) state.computeIfAbsent("max_exp_avg_sq", k -> Tensor.zerosLike(param));
            max.copy_(max.maximum(expAvgSq));
            second = max;
        }
        Tensor denom = second.sqrt().div(biasCorrection2Sqrt).add(eps);
        param.add_(expAvg.div(denom).mul(stepSize.neg()));
    }
}
