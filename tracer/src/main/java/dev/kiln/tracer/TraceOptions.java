package dev.kiln.tracer;

import dev.kiln.eager.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How to trace: which input dims stay symbolic, strict or lenient handling of data-dependent
 * reads, names for inputs and parameters.
 */
public final class TraceOptions {
    /** A dim of an example input that stays symbolic in the graph. */
    public record DynamicDim(int input, int dim, String symbol) {}

    final String name;
    final List<DynamicDim> dynamic;
    final boolean strict;
    final boolean selfCheck;
    final List<String> inputNames;
    final List<String> outputNames;
    final Map<Tensor, String> params;
    final List<dev.kiln.graph.Assumption> assumptions;

    private TraceOptions(Builder b) {
        name = b.name;
        dynamic = List.copyOf(b.dynamic);
        strict = b.strict;
        selfCheck = b.selfCheck;
        inputNames = List.copyOf(b.inputNames);
        outputNames = List.copyOf(b.outputNames);
        params = b.params;
        assumptions = List.copyOf(b.assumptions);
    }

    /** A builder holding these options, to derive variants. */
    public Builder toBuilder() {
        Builder b = new Builder().name(name).strict(strict).selfCheck(selfCheck).inputNames(inputNames.toArray(new String[0]))
                .outputNames(outputNames.toArray(new String[0]));
        for (DynamicDim d : dynamic) b.dynamic(d.input(), d.dim(), d.symbol());
        b.params.putAll(params);
        b.assumptions.addAll(assumptions);
        return b;
    }

    public static Builder builder() { return new Builder(); }

    public static TraceOptions defaults() { return builder().build(); }

    public boolean strict() { return strict; }

    public static final class Builder {
        private String name = "traced";
        private final List<DynamicDim> dynamic = new ArrayList<>();
        private boolean strict = true;
        private boolean selfCheck = true;
        private final List<String> inputNames = new ArrayList<>();
        private final List<String> outputNames = new ArrayList<>();
        private final Map<Tensor, String> params = new java.util.IdentityHashMap<>();
        private final List<dev.kiln.graph.Assumption> assumptions = new ArrayList<>();

        /** Records an assumption in the graph's ledger (the tracer adds the device and the module mode). */
        public Builder assume(String kind, String description, String source) {
            assumptions.add(new dev.kiln.graph.Assumption(kind, description, source));
            return this;
        }

        public Builder name(String n) { name = n; return this; }

        /** Forgets the dims marked dynamic so far (TracedFunction traces sizes 0 and 1 static). */
        public Builder clearDynamic() { dynamic.clear(); return this; }

        /** Keeps dim {@code dim} of example input {@code input} symbolic, e.g. dynamic(0, 0, "N"). */
        public Builder dynamic(int input, int dim, String symbol) {
            dynamic.add(new DynamicDim(input, dim, symbol));
            return this;
        }

        /**
         * Strict (default): a data-dependent read of a traced value (item(), toFloatArray(),
         * a Java branch on a tensor) fails at trace time naming the line. Lenient: it becomes a
         * guard stored with the graph and checked on every run.
         */
        public Builder strict(boolean s) { strict = s; return this; }

        /**
         * On (default): after a trace with dynamic dims, the function runs eagerly once more at
         * another size of each dynamic dim and must agree with the graph there, so what the ledger
         * misses is still caught (SelfCheck: one more eager run and one reference-interpreter run).
         */
        public Builder selfCheck(boolean on) { selfCheck = on; return this; }

        public Builder inputNames(String... names) {
            inputNames.clear();
            inputNames.addAll(List.of(names));
            return this;
        }

        /**
         * What clients will call the outputs (a served model's answer, an ONNX output), in order;
         * outputs not named here are {@code output0}, {@code output1}, ...
         */
        public Builder outputNames(String... names) {
            outputNames.clear();
            outputNames.addAll(List.of(names));
            return this;
        }

        /** Tensors that become named graph parameters (module parameters and buffers). */
        public Builder params(Map<String, Tensor> named) {
            Map<Tensor, String> m = new LinkedHashMap<>();
            named.forEach((k, v) -> m.put(v, k));
            m.forEach(params::put);
            return this;
        }

        public TraceOptions build() { return new TraceOptions(this); }
    }
}
