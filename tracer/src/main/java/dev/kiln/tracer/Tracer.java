package dev.kiln.tracer;

import dev.kiln.backend.shape.TensorType;
import dev.kiln.eager.Dispatcher;
import dev.kiln.eager.OpObserver;
import dev.kiln.eager.Device;
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

    /**
     * Traces a module's forward: its parameters and buffers become named graph parameters,
     * and the train/eval mode it ran in goes into the ledger.
     */
    private static final System.Logger LOG = System.getLogger("dev.kiln.tracer");

    public static Graph trace(dev.kiln.eager.nn.Module module, Tensor[] examples, TraceOptions options) {
        Map<String, Tensor> named = new java.util.LinkedHashMap<>(module.namedParameters());
        named.putAll(module.namedBuffers());
        TraceOptions o = options.toBuilder().params(named)
                .assume("mode", module.getClass().getSimpleName() + " traced in " + (module.isTraining() ? "train" : "eval")
                        + " mode (dropout and batch-norm behave as in that mode)", SourceLines.caller())
                .build();
        Graph g = trace(in -> module.call(in), examples, o);
        for (String w : dev.kiln.graph.TrainingArtifacts.of(g)) LOG.log(System.Logger.Level.WARNING, w);
        return g;
    }

    /** Traces a single-output function. */
    public static Graph trace(Function<Tensor[], Tensor> fn, Tensor[] examples, TraceOptions options) {
        return traceMulti(in -> new Tensor[] {fn.apply(in)}, examples, options);
    }

    public static Graph traceMulti(Function<Tensor[], Tensor[]> fn, Tensor[] examples, TraceOptions options) {
        return record(fn, examples, options, false).graph;
    }

    /**
     * Captures a whole training step (zeroGrad, forward, loss, backward, optimizer step) as one
     * graph. The step runs eagerly twice: once to create the optimizer's lazily made state
     * (momentum buffers, step counters), then once recorded. Every parameter or captured
     * tensor written in place becomes explicit state: the graph's outputs are the loss followed
     * by the new value of each state, and {@link TracedStep#run} feeds them back. Hyper-parameters
     * read as Java numbers (the learning rate, betas) are constants of the graph. The returned
     * step continues from the state the eager objects have after these two steps.
     */
    public static TracedStep traceStep(Function<Tensor[], Tensor> step, Tensor[] examples, TraceOptions options) {
        step.apply(examples);
        Recorded r = record(in -> new Tensor[] {step.apply(in)}, examples, options, true);
        // the step runs where its batch is (a GPU training loop's batch is on the GPU)
        return new TracedStep(r.graph, r.state, r.stateData, Device.common(options.name, examples));
    }

    private record Recorded(Graph graph, List<Value> state, List<dev.kiln.backend.Strided> stateData) {}

    private static Recorded record(Function<Tensor[], Tensor[]> fn, Tensor[] examples, TraceOptions options, boolean stateAsOutputs) {
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
                    int size = ex.data().shape()[d];
                    if (size <= 1) {
                        // size 1 broadcasts and size 0 empties: eager code (gradients that sum a
                        // broadcast dim back, library shortcuts) takes other paths there, and the
                        // graph would silently keep them
                        throw new TraceException("dynamic dim " + t.dim(d) + " (dim " + d + " of input " + i + ") has size " + size
                                + " in the example; a dynamic dim needs an example size of at least 2, since sizes 0 and 1 behave"
                                + " differently (broadcasting, empty tensors). Trace with a larger example; the graph runs at 0 and 1 too");
                    }
                    Long prev = symbols.put(t.dim(d).toString(), (long) ex.data().shape()[d]);
                    if (prev != null && prev != ex.data().shape()[d]) {
                        throw new TraceException("symbol " + t.dim(d) + " is " + prev + " in one example input and " + ex.data().shape()[d] + " in another");
                    }
                }
            }
            // a fresh alias, so tensors the caller holds elsewhere are not mistaken for inputs
            inputs[i] = ex.detach();
            inputValues.add(b.addInput(name, t));
        }
        b.addAssumption(new dev.kiln.graph.Assumption("device", "runs on the CPU backend", null));
        for (dev.kiln.graph.Assumption a : options.assumptions) b.addAssumption(a);
        long[] generatorBefore = dev.kiln.eager.random.Generator.defaultGenerator().state();
        TraceRecorder rec = new TraceRecorder(b, options, SymbolBindings.of(symbols));
        rec.stepMode = stateAsOutputs;
        for (int i = 0; i < inputs.length; i++) rec.bindInput(inputs[i], inputValues.get(i));
        OpObserver prev = Dispatcher.setObserver(rec);
        Tensor[] outs;
        try {
            outs = fn.apply(inputs);
        } finally {
            rec.stop();
            Dispatcher.setObserver(prev);
        }
        if (options.outputNames.size() > outs.length) {
            throw new IllegalArgumentException(options.name + ": " + options.outputNames.size() + " output names for " + outs.length + " outputs");
        }
        for (int i = 0; i < outs.length; i++) b.output(rec.valueOf(outs[i]), i < options.outputNames.size() ? options.outputNames.get(i) : null);
        List<Value> state = new ArrayList<>();
        List<dev.kiln.backend.Strided> stateData = new ArrayList<>();
        if (stateAsOutputs) {
            rec.stateUpdates().forEach((root, v) -> {
                state.add(root);
                Tensor live = rec.stateTensor(root);
                stateData.add(dev.kiln.backend.cpu.Copy.toContiguous(live.data(), live.dtype()));
                b.output(v);
            });
        }
        Graph g = b.build();
        List<Value> stateValues = state;
        if (stateAsOutputs) {
            StateParams sp = StateParams.of(g, state);
            g = sp.graph();
            stateValues = sp.state();
        }
        Verifier.verify(g);
        if (options.selfCheck && !stateAsOutputs) SelfCheck.run(fn, examples, g, options, symbols, generatorBefore, !rec.stateUpdates().isEmpty());
        return new Recorded(g, stateValues, stateData);
    }
}
