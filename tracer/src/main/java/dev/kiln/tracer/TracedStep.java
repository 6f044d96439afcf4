package dev.kiln.tracer;

import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.eager.Device;
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
 * the backward pass and the update fuse and GEMM epilogues apply, and with the state donated, so
 * an update may be written over the value it replaces. {@link #parameter} is therefore a live
 * view: like a PyTorch parameter, it shows each later step's update.
 */
public final class TracedStep {
    private final Graph graph;
    private final List<Value> state;
    private final Map<Value, Strided> current = new LinkedHashMap<>();
    private final CompiledGraph compiled;
    private final Device device;

    TracedStep(Graph graph, List<Value> state, List<Strided> initial, Device device) {
        this.graph = graph;
        this.device = device;
        java.util.Set<String> names = new java.util.LinkedHashSet<>();
        for (Value v : state) names.add(v.name());
        // the state is donated: each run may write the new parameters and optimizer state over
        // the old ones (in place, as an eager optimizer step does) instead of allocating them
        CompileOptions options = CompileOptions.of(OptLevel.O2).withFreezeParams(false).withDonatedParams(names);
        // traced on a GPU: the step runs there, fused groups as generated kernels (donation is CPU-only)
        this.compiled = CompiledGraph.compile(graph, device.isCpu() ? options : options.withDevice(device.executor()));
        this.state = List.copyOf(state);
        // copies: the step owns its state, so the tensors it was traced from are never written
        for (int i = 0; i < state.size(); i++) current.put(state.get(i), Copy.toContiguous(initial.get(i), initial.get(i).dtype()));
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
        return Tensor.wrap(out.get(0), device);
    }

    /** Where the step runs: the device its example batch was on when it was traced. */
    public Device device() { return device; }

    /** The current value of a parameter, by its graph name: a view that later runs update in place. */
    public synchronized Tensor parameter(String name) {
        Strided s = current.get(Value.param(name));
        if (s == null) s = find(graph.params(), name);
        return Tensor.wrap(s, device);
    }
}
