package dev.kiln.tracer;

import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.eager.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.NamedTensor;
import dev.kiln.graph.Value;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A functionalized training step: graph outputs are (loss, new state...), and each run feeds
 * the new state back in place of the parameters and optimizer state it updates. The graph is
 * compiled at O2 with parameters left unfrozen (they are the state), so elementwise chains of
 * the backward pass and the update fuse and GEMM epilogues apply.
 */
public final class TracedStep {
    private final Graph graph;
    private final List<Value> state;
    private final Map<Value, Strided> current = new LinkedHashMap<>();
    private final CompiledGraph compiled;

    TracedStep(Graph graph, List<Value> state, List<Strided> initial) {
        this.graph = graph;
        this.compiled = CompiledGraph.compile(graph, CompileOptions.of(OptLevel.O2).withFreezeParams(false));
        this.state = List.copyOf(state);
        for (int i = 0; i < state.size(); i++) current.put(state.get(i), initial.get(i));
    }

    private static Strided find(List<NamedTensor> list, String name) {
        for (NamedTensor t : list) if (t.name().equals(name)) return t.data();
        throw new IllegalStateException("no tensor named " + name);
    }

    public Graph graph() { return graph; }

    /** The compiled plan the step runs ({@code compiled().explain(...)} shows fusion and buffers). */
    public CompiledGraph compiled() { return compiled; }

    /** The values carried from step to step (parameters and optimizer state). */
    public List<Value> stateValues() { return state; }

    /** Runs one step on a batch and returns the loss; the state advances. */
    public synchronized Tensor run(Tensor... inputs) {
        List<Strided> in = new ArrayList<>();
        for (Tensor t : inputs) in.add(t.data());
        List<Strided> out = compiled.run(in, current);
        for (int i = 0; i < state.size(); i++) {
            // outputs leave the run in fresh buffers, so they can be fed back as they are
            Strided s = out.get(1 + i);
            current.put(state.get(i), s.isContiguous() && s.offset() == 0 ? s : Copy.toContiguous(s, s.dtype()));
        }
        return Tensor.wrap(out.get(0));
    }

    /** The current value of a parameter, by its graph name. */
    public synchronized Tensor parameter(String name) {
        Strided s = current.get(Value.param(name));
        if (s == null) s = find(graph.params(), name);
        return Tensor.wrap(s);
    }
}
