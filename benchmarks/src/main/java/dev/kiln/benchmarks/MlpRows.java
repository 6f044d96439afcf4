package dev.kiln.benchmarks;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.Linear;
import dev.kiln.eager.nn.Module;
import dev.kiln.eager.nn.ReLU;
import dev.kiln.eager.nn.Sequential;
import java.util.function.Function;
import java.util.function.Supplier;

/** torch_bench.py's MLP rows, plus Kiln's traced training step (mlp_train_b64_traced). */
final class MlpRows {
    private MlpRows() {}

    /** nn.Sequential(Linear(784, 256), ReLU(), Linear(256, 128), ReLU(), Linear(128, 10)), as the peer builds it. */
    static Module mlp() {
        return new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 128), new ReLU(), new Linear(128, 10));
    }

    /** Seeds the traced-training twins; any value works, it only has to be the same for both. */
    private static final long TWIN_SEED = 7;

    static void run(Report report) {
        Module mlp = mlp();
        Tensor x = Tensor.randn(64, 784), y = Tensor.randint(0, 10, 64);
        Tensor[] batch = {x, y};
        Function<Tensor[], Tensor> step = TrainStep.of(mlp, TrainStep.sgd(mlp));
        report.ms("mlp_train_b64", Median.ms(() -> step.apply(batch), 200, 20));

        try (var ng = Autograd.noGrad()) {
            report.ms("mlp_infer_b64", Median.ms(() -> mlp.call(x), 500, 50));
            Tensor x1 = Tensor.randn(1, 784);
            report.ms("mlp_infer_b1", Median.ms(() -> mlp.call(x1), 2000, 100));
        }

        mlp.eval();
        CompiledInference traced = CompiledInference.batched("mlp", mlp::call, x, mlp.namedParameters());
        Supplier<?> run = traced.verifiedRunner("mlp_infer_b64_traced", x, mlp::call);
        report.ms("mlp_infer_b64_traced", Median.ms(run, 500, 50));

        // mlp_train_b64's protocol; its own model, so the eager rows above are not disturbed.
        report.ms("mlp_train_b64_traced", Median.ms(TracedTraining.verifiedRunner("mlp_train_b64_traced", MlpRows::mlp, TWIN_SEED, batch), 200, 20));
    }
}
