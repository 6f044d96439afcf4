package dev.kiln.benchmarks;

import dev.kiln.backend.Strided;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.graph.Graph;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Tracer;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The traced-inference path a user deploys, the counterpart of torch.jit.freeze(torch.jit.trace(..)):
 * trace with the batch dim symbolic, optimize at O2 with the parameters frozen (so weight
 * transposes fold into constants), compile into a plan with fusion and buffer reuse.
 */
final class CompiledInference {
    private final CompiledGraph compiled;

    private CompiledInference(CompiledGraph compiled) { this.compiled = compiled; }

    /**
     * Traces {@code fn} on {@code example} under noGrad (inference records no tape, as under
     * torch.no_grad), with {@code params} as named graph parameters and dim 0 of the input symbolic
     * (the batch, "N"), so one compiled graph serves every batch size.
     */
    static CompiledInference batched(String name, Function<Tensor, Tensor> fn, Tensor example, Map<String, Tensor> params) {
        return of(fn, example, TraceOptions.builder().name(name).dynamic(0, 0, "N").params(params).build());
    }

    /** As {@link #batched} with every dim fixed: for inputs with no batch dim (chain1M's flat vector). */
    static CompiledInference fixedShape(String name, Function<Tensor, Tensor> fn, Tensor example, Map<String, Tensor> params) {
        return of(fn, example, TraceOptions.builder().name(name).params(params).build());
    }

    private static CompiledInference of(Function<Tensor, Tensor> fn, Tensor example, TraceOptions options) {
        Graph graph;
        try (var ng = Autograd.noGrad()) {
            graph = Tracer.trace(in -> fn.apply(in[0]), new Tensor[] {example}, options);
        }
        // CompileOptions.of(O2) runs the PassManager at O2 with freezeParams(true) before planning.
        CompiledGraph compiled = CompiledGraph.compile(graph, CompileOptions.of(OptLevel.O2));
        System.err.println(compiled.graph().name() + " passes:\n" + compiled.passReport());
        return new CompiledInference(compiled);
    }

    /** One run of the compiled plan; the output leaves the run freshly allocated, as eager's does. */
    Tensor run(Tensor x) { return Tensor.wrap(compiled.run(List.of(x.data())).get(0)); }

    /**
     * What is timed: the plan run on pre-extracted inputs, so no wrapper work is counted that a
     * deployment would not do. Verified against {@code eager} once, here, before any timing.
     */
    Supplier<?> verifiedRunner(String workload, Tensor x, Function<Tensor, Tensor> eager) {
        try (var ng = Autograd.noGrad()) {
            AgreesWithEager.check(workload, "compiled output", run(x), eager.apply(x));
        }
        List<Strided> in = List.of(x.data());
        return () -> compiled.run(in);
    }
}
