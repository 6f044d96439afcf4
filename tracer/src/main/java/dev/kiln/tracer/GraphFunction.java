package dev.kiln.tracer;

import dev.kiln.backend.cpu.Copy;
import dev.kiln.eager.Dispatcher;
import dev.kiln.eager.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.NamedTensor;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Runs a graph back through eager ops (the dispatcher), so autograd records it: a traced or
 * loaded graph can be fine-tuned. Its parameters become trainable leaf tensors.
 */
public final class GraphFunction {
    private final Graph graph;
    private final Map<String, Tensor> parameters = new LinkedHashMap<>();

    public GraphFunction(Graph graph) {
        this.graph = graph;
        for (NamedTensor p : graph.params()) {
            Tensor t = Tensor.wrap(Copy.toContiguous(p.data(), p.type().dtype()));
            if (t.dtype().isFloatingPoint()) t.requiresGrad(true);
            parameters.put(p.name(), t);
        }
    }

    public Graph graph() { return graph; }

    /** The trainable parameters by qualified name (for an optimizer or a state dict). */
    public Map<String, Tensor> parameters() { return java.util.Collections.unmodifiableMap(parameters); }

    public Tensor[] forward(Tensor... inputs) {
        if (inputs.length != graph.inputs().size()) {
            throw new IllegalArgumentException(graph.name() + ": expected " + graph.inputs().size() + " input(s), got " + inputs.length);
        }
        Map<Value, Tensor> env = new HashMap<>();
        for (int i = 0; i < inputs.length; i++) env.put(Value.input(graph.inputs().get(i).name()), inputs[i]);
        parameters.forEach((k, v) -> env.put(Value.param(k), v));
        for (NamedTensor c : graph.constants()) env.put(Value.constant(c.name()), Tensor.wrap(c.data()));
        for (Node n : graph.nodes()) {
            Tensor[] in = n.inputs().stream().map(env::get).toArray(Tensor[]::new);
            env.put(n.output(), Dispatcher.apply(n.op(), n.attrs(), in));
        }
        return graph.outputs().stream().map(env::get).toArray(Tensor[]::new);
    }
}
