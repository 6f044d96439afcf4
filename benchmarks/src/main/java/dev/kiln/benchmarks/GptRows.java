package dev.kiln.benchmarks;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.random.Generator;
import dev.kiln.examples.gpt.CharCorpus;
import dev.kiln.examples.gpt.CharGpt;
import dev.kiln.examples.gpt.GptDemo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * torch_gpt.py's rows: {@code gpt_train_step_b32_t128}, the median of the first N training steps
 * of the demo's GPT (AdamW, grad-norm clip) on the same corpus and split (N = -Dkiln.gptSteps,
 * default 40; torch_gpt.py's second argument), and {@code gpt_infer_b1_t128}, the median of 50
 * eager forwards of one 128-id sequence, no warm-up, as torch_gpt.py measures them. Kiln adds
 * {@code gpt_infer_b1_t128_traced}: the same through the traced, compiled graph.
 */
final class GptRows {
    private GptRows() {}

    static void run(Report report) {
        CharCorpus corpus;
        try {
            // $FORTUNES, as torch_gpt.py reads it, so both sides train on the same text
            String dir = System.getenv("FORTUNES");
            corpus = CharCorpus.load(dir != null && !dir.isEmpty() ? java.nio.file.Path.of(dir) : CharCorpus.DEBIAN_DIR);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        CharGpt model = GptDemo.model(corpus.vocabSize());
        var opt = GptDemo.optimizer(model);
        Generator g = new Generator(0);
        int steps = Integer.getInteger("kiln.gptSteps", 40);
        double[] ms = new double[steps];
        for (int i = 0; i < steps; i++) {
            GptDemo.Batch b = GptDemo.batch(corpus.train, 32, GptDemo.CONTEXT, g);
            long t = System.nanoTime();
            GptDemo.trainStep(model, opt, b);
            ms[i] = (System.nanoTime() - t) / 1e6;
        }
        Arrays.sort(ms);
        report.ms("gpt_train_step_b32_t128", ms[steps / 2]);
        // the same step traced (AdamW and the clipping included), on one batch of the same split
        GptDemo.Batch fixed = GptDemo.batch(corpus.train, 32, GptDemo.CONTEXT, new Generator(0));
        Supplier<?> tracedStep = TracedTraining.verifiedRunner("gpt_train_step_b32_t128_traced",
                () -> GptDemo.model(corpus.vocabSize()),
                m -> GptDemo.step(m, GptDemo.optimizer(m)), 0, new Tensor[] {fixed.x(), fixed.y()});
        report.ms("gpt_train_step_b32_t128_traced", Median.ms(tracedStep, steps, 3));
        model.eval();
        Tensor ids = Tensor.randint(0, corpus.vocabSize(), 1, GptDemo.CONTEXT);
        try (var ng = Autograd.noGrad()) {
            report.ms("gpt_infer_b1_t128", Median.ms(() -> model.call(ids), 50, 0));
        }
        CompiledInference traced = CompiledInference.fixedShape("char_gpt", model::call, ids, model.namedParameters());
        report.ms("gpt_infer_b1_t128_traced", Median.ms(traced.verifiedRunner("gpt_infer_b1_t128_traced", ids, model::call), 50, 10));
    }
}
