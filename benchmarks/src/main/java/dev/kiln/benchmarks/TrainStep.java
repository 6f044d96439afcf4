package dev.kiln.benchmarks;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.Module;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.optim.Optimizer;
import dev.kiln.eager.optim.SGD;
import java.util.function.BinaryOperator;
import java.util.function.Function;

/**
 * torch_bench.py's training step, {@code opt.zero_grad(); F.cross_entropy(model(X), Y).backward(); opt.step()},
 * as a function of the batch {X, Y} so the same step can be run eagerly or handed to the tracer.
 */
final class TrainStep {
    private TrainStep() {}

    /** torch_bench.py's optimizer for both models. */
    static SGD sgd(Module model) {
        return SGD.builder(model.parameters()).lr(0.01).momentum(0.9).build();
    }

    /** The step users write, with F.crossEntropy. */
    static Function<Tensor[], Tensor> of(Module model, Optimizer opt) {
        return of(model, opt, F::crossEntropy);
    }

    /**
     * zeroGrad() drops the gradients (PyTorch 2's set_to_none; the peer's torch 1.13 zeroes them in
     * place): the same update, and Kiln accumulates out of place, so zeroing would only add work.
     */
    private static Function<Tensor[], Tensor> of(Module model, Optimizer opt, BinaryOperator<Tensor> lossFn) {
        return batch -> {
            opt.zeroGrad();
            Tensor loss = lossFn.apply(model.call(batch[0]), batch[1]);
            loss.backward();
            opt.step();
            return loss;
        };
    }
}
