package dev.kiln.tracer;

import dev.kiln.backend.shape.TensorType;
import dev.kiln.eager.Dispatcher;
import dev.kiln.eager.OpObserver;
import dev.kiln.eager.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.SymbolBindings;
import dev.kiln.graph.Value;
import dev.kiln.graph.Verifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Captures one eager execution into a static {@link Graph}: Java control flow runs normally,
 * so the graph holds the path taken, and whatever the trace specialized on is in its ledger.
 */
public final class Tracer {
    private Tracer() {}

    /** Traces a single-output function. */
    public static Graph trace(Function<Tensor[], Tensor> fn, Tensor[] examples, TraceOptions options) {
        return traceMulti(in -> new Tensor[] {fn.apply(in)}, examples, options);
    }

    public static Graph traceMulti(Function<Tensor[], Tensor[]> fn, Tensor[] examples, TraceOptions options) {
        GraphBuilder b = Graph.builder(options.name);
        Map<String, Long> symbols = new TreeMap<>();
        Tensor[] inputs = new Tensor[examples.length];
        List<Value> inputValues = new ArrayList<>();
        for (int i = 0; i < examples.length; i++) {
            Tensor ex = examples[i];
            String name = i < options.inputNames.size() ? options.inputNames.get(i) : (examples.length == 1 ? "x" : "x" + i);
            TensorType t = new TensorType(ex.dtype(), TraceRecorder.symbolicShape(ex, i, options));
            for (int d = 0; d < t.rank(); d++) {
                if (!t.dim(d).isConstant()) {
                    Long prev = symbols.put(t.dim(d).toString(), (long) ex.shape()[d]);
                    if (prev != null && prev != ex.shape()[d]) {
                        throw new TraceException("symbol " + t.dim(d) + " is " + prev + " in one example input and " + ex.shape()[d] + " in another");
                    }
                }
            }
            // a fresh alias, so tensors the caller holds elsewhere are not mistaken for inputs
            inputs[i] = ex.detach();
            inputValues.add(b.addInput(name, t));
        }
        TraceRecorder rec = new TraceRecorder(b, options, SymbolBindings.of(symbols));
        for (int i = 0; i < inputs.length; i++) rec.bindInput(inputs[i], inputValues.get(i));
        OpObserver prev = Dispatcher.setObserver(rec);
        Tensor[] outs;
        try {
            outs = fn.apply(inputs);
        } finally {
            rec.stop();
            Dispatcher.setObserver(prev);
        }
        for (Tensor o : outs) b.output(rec.valueOf(o));
        rec.paramUpdates().forEach((param, v) -> b.putMetadata("update:" + param, v.toString()));
        Graph g = b.build();
        Verifier.verify(g);
        return g;
    }
}
