package dev.kiln.benchmarks;

import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.Linear;
import dev.kiln.eager.nn.Module;
import dev.kiln.eager.nn.ReLU;
import dev.kiln.eager.nn.Sequential;
import dev.kiln.examples.LeNet;
import java.util.Locale;
import java.util.function.Function;

/**
 * How cost grows: LeNet's eager training step and compiled inference against the batch size (1
 * to 1024), and an MLP's against its width at batch 64. Median milliseconds and the time per
 * sample, as a markdown table (docs/benchmarks.md, "Scaling").
 *
 * <pre>java --add-modules jdk.incubator.vector -cp ... dev.kiln.benchmarks.ScalingRows</pre>
 */
public final class ScalingRows {
    private ScalingRows() {}

    public static void main(String[] args) {
        Kiln.manualSeed(0);
        System.out.println("| model | batch | train step (ms) | per sample (us) | compiled inference (ms) | per sample (us) |");
        System.out.println("|---|---|---|---|---|---|");
        for (int b : new int[] {1, 8, 64, 256, 1024}) {
            LeNet net = new LeNet();
            row("LeNet", b, net, Tensor.randn(b, 1, 28, 28), Tensor.randint(0, 10, b));
        }
        for (int w : new int[] {128, 512, 2048}) {
            Module mlp = new Sequential(new Linear(784, w), new ReLU(), new Linear(w, w), new ReLU(), new Linear(w, 10));
            row("MLP 784-" + w + "-" + w + "-10", 64, mlp, Tensor.randn(64, 784), Tensor.randint(0, 10, 64));
        }
    }

    private static void row(String name, int b, Module model, Tensor x, Tensor y) {
        int reps = b >= 256 ? 20 : 100;
        Function<Tensor[], Tensor> step = TrainStep.of(model, TrainStep.sgd(model));
        Tensor[] batch = {x, y};
        double train = Median.ms(() -> step.apply(batch), reps, reps / 5);
        model.eval();
        // traced with every dim fixed at this batch (a one-row symbolic batch cannot be traced)
        CompiledInference compiled = CompiledInference.fixedShape(name, model::call, x, model.namedParameters());
        double infer;
        try (var ng = Autograd.noGrad()) {
            infer = Median.ms(compiled.verifiedRunner(name + " b" + b, x, model::call), reps * 2, reps / 2);
        }
        model.train();
        System.out.printf(Locale.ROOT, "| %s | %d | %.3f | %.1f | %.3f | %.1f |%n", name, b, train, 1000 * train / b, infer, 1000 * infer / b);
    }
}
