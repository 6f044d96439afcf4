package dev.kiln.graph;

import dev.kiln.backend.shape.TensorType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable static graph: typed inputs, named parameters (with data), constants, nodes in
 * topological order (SSA), outputs, guards and the assumption ledger. Passes build new graphs
 * with {@link GraphBuilder}; nobody edits one in place.
 */
public final class Graph {
    private final String name;
    private final List<GraphInput> inputs;
    private final List<NamedTensor> params;
    private final List<NamedTensor> constants;
    private final List<Node> nodes;
    private final List<Value> outputs;
    private final List<String> outputNames;
    private final List<Guard> guards;
    private final List<Assumption> assumptions;
    private final Map<String, String> metadata;
    private final Map<Value, TensorType> types;
    private final Map<Integer, Node> byId;

    Graph(String name, List<GraphInput> inputs, List<NamedTensor> params, List<NamedTensor> constants, List<Node> nodes,
          List<Value> outputs, List<String> outputNames, List<Guard> guards, List<Assumption> assumptions, Map<String, String> metadata) {
        this.name = name;
        this.inputs = List.copyOf(inputs);
        this.params = List.copyOf(params);
        this.constants = List.copyOf(constants);
        this.nodes = List.copyOf(nodes);
        this.outputs = List.copyOf(outputs);
        this.outputNames = List.copyOf(outputNames);
        if (this.outputNames.size() != this.outputs.size()) {
            throw new GraphException(name + ": " + outputs.size() + " outputs but " + outputNames.size() + " output names");
        }
        this.guards = List.copyOf(guards);
        this.assumptions = List.copyOf(assumptions);
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        Map<Value, TensorType> t = new HashMap<>();
        for (GraphInput in : inputs) t.put(Value.input(in.name()), in.type());
        for (NamedTensor p : params) t.put(Value.param(p.name()), p.type());
        for (NamedTensor c : constants) t.put(Value.constant(c.name()), c.type());
        Map<Integer, Node> ids = new HashMap<>();
        for (Node n : nodes) {
            for (int i = 0; i < n.types().size(); i++) t.put(n.output(i), n.types().get(i));
            ids.put(n.id(), n);
        }
        this.types = Collections.unmodifiableMap(t);
        this.byId = Collections.unmodifiableMap(ids);
    }

    public static GraphBuilder builder(String name) { return new GraphBuilder(name); }

    /**
     * A builder pre-filled with everything but the nodes and outputs (for passes). The output
     * names carry over by position: a pass that adds the same number of outputs keeps them.
     */
    public GraphBuilder rebuild() {
        GraphBuilder b = new GraphBuilder(name);
        b.inheritOutputNames(outputNames);
        for (GraphInput in : inputs) b.addInput(in.name(), in.type());
        for (NamedTensor p : params) b.addParam(p.name(), p.type(), p.data());
        for (NamedTensor c : constants) b.addConstant(c.name(), c.type(), c.data());
        for (Guard g : guards) b.addGuard(g);
        for (Assumption a : assumptions) b.addAssumption(a);
        metadata.forEach(b::putMetadata);
        b.reserveIdsAbove(maxNodeId());
        return b;
    }

    public String name() { return name; }

    public List<GraphInput> inputs() { return inputs; }

    public List<NamedTensor> params() { return params; }

    public List<NamedTensor> constants() { return constants; }

    public List<Node> nodes() { return nodes; }

    public List<Value> outputs() { return outputs; }

    /**
     * What clients call each output (a served model's answer, an ONNX output): stable across
     * re-traces, unlike the node ids. Traced graphs default to {@code output0, output1, ...}.
     */
    public List<String> outputNames() { return outputNames; }

    public List<Guard> guards() { return guards; }

    public List<Assumption> assumptions() { return assumptions; }

    public Map<String, String> metadata() { return metadata; }

    /** Type of a value, or null when the value is not defined in this graph. */
    public TensorType typeOf(Value v) { return types.get(v); }

    public Node node(int id) { return byId.get(id); }

    public int maxNodeId() {
        int m = 0;
        for (Node n : nodes) m = Math.max(m, n.id());
        return m;
    }

    /** Users of every value, for passes. */
    public Map<Value, List<Node>> users() {
        Map<Value, List<Node>> u = new HashMap<>();
        for (Node n : nodes) for (Value v : n.inputs()) u.computeIfAbsent(v, k -> new ArrayList<>()).add(n);
        return u;
    }

    /** The text form (see DESIGN.md): stable, tested with golden files. */
    @Override
    public String toString() { return GraphPrinter.text(this); }

    public String toDot() { return GraphPrinter.dot(this); }
}
