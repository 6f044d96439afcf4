package dev.kiln.benchmarks;

import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.Module;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.TracedStep;
import dev.kiln.tracer.Tracer;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A whole training step (zero grad, forward, loss, backward, optimizer update: torch_bench.py's
 * SGD with momentum, or the GPT's AdamW with clipping) captured by Tracer.traceStep and replayed
 * with TracedStep.run, which feeds the updated parameters and optimizer state (momentum buffers,
 * moments, step counts) back as state. Kiln-only rows: PyTorch 1.13 has no traced training step.
 */
final class TracedTraining {
    private TracedTraining() {}

    /**
     * torch_bench.py's step (F.crossEntropy, SGD with momentum): builds two identically
     * initialized models (same seed), trains one eagerly and one through the traced step on the
     * same batch, and fails unless the loss and every parameter agree; returns the traced step's
     * runner, to be timed. traceStep runs the step twice eagerly (once to create the optimizer's
     * state, once recorded), so the eager twin takes two steps before the compared third.
     */
    static Supplier<?> verifiedRunner(String workload, Supplier<Module> model, long seed, Tensor[] batch) {
        return verifiedRunner(workload, model, m -> TrainStep.of(m, TrainStep.sgd(m)), seed, batch);
    }

    /** The same for any step: {@code step} builds a model's step (its optimizer included) as a function of the batch. */
    static <M extends Module> Supplier<?> verifiedRunner(String workload, Supplier<M> model, Function<M, Function<Tensor[], Tensor>> step,
            long seed, Tensor[] batch) {
        Kiln.manualSeed(seed);
        M eager = model.get();
        Function<Tensor[], Tensor> eagerStep = step.apply(eager);
        eagerStep.apply(batch);
        eagerStep.apply(batch);
        Tensor eagerLoss = eagerStep.apply(batch);

        Kiln.manualSeed(seed);
        M traced = model.get();
        TraceOptions options = TraceOptions.builder().name(workload).params(traced.namedParameters()).build();
        TracedStep tracedStep = Tracer.traceStep(step.apply(traced), batch, options);
        AgreesWithEager.check(workload, "loss of step 3", tracedStep.run(batch), eagerLoss);
        for (Map.Entry<String, Tensor> p : eager.namedParameters().entrySet()) {
            AgreesWithEager.check(workload, "parameter " + p.getKey() + " after step 3", tracedStep.parameter(p.getKey()), p.getValue());
        }
        return () -> tracedStep.run(batch);
    }
}
