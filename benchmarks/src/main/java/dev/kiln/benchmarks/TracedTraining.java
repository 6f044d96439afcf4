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
 * A whole training step (zero grad, forward, loss, backward, SGD update) captured by
 * Tracer.traceStep and replayed with TracedStep.run, which feeds the updated parameters and
 * momentum buffers back as state. Kiln-only rows: PyTorch 1.13 has no traced training step.
 */
final class TracedTraining {
    private TracedTraining() {}

    /**
     * Builds two identically initialized models (same seed), trains one eagerly (the user's step,
     * F.crossEntropy) and one through the traced step on the same batch, and fails unless the loss and every parameter agree;
     * returns the traced step's runner, to be timed. traceStep runs the step twice eagerly (once
     * to create the momentum buffers, once recorded), so the eager twin takes two steps before
     * the compared third.
     */
    static Supplier<?> verifiedRunner(String workload, Supplier<Module> model, long seed, Tensor[] batch) {
        Kiln.manualSeed(seed);
        Module eager = model.get();
        Function<Tensor[], Tensor> eagerStep = TrainStep.of(eager, TrainStep.sgd(eager));
        eagerStep.apply(batch);
        eagerStep.apply(batch);
        Tensor eagerLoss = eagerStep.apply(batch);

        Kiln.manualSeed(seed);
        Module traced = model.get();
        TraceOptions options = TraceOptions.builder().name(workload).params(traced.namedParameters()).build();
        TracedStep step = Tracer.traceStep(TrainStep.traceable(traced, TrainStep.sgd(traced)), batch, options);
        AgreesWithEager.check(workload, "loss of step 3", step.run(batch), eagerLoss);
        for (Map.Entry<String, Tensor> p : eager.namedParameters().entrySet()) {
            AgreesWithEager.check(workload, "parameter " + p.getKey() + " after step 3", step.parameter(p.getKey()), p.getValue());
        }
        return () -> step.run(batch);
    }
}
