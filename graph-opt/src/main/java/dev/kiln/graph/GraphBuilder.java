package dev.kiln.graph;

import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds graphs; {@link #add} infers each node's type with its op's shape rule. */
public final class GraphBuilder {
    private final String name;
    private final List<GraphInput> inputs = new ArrayList<>();
    private final List<NamedTensor> params = new ArrayList<>();
    private final List<NamedTensor> constants = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();
    private final List<Value> outputs = new ArrayList<>();
    private final List<String> outputNames = new ArrayList<>();
    private List<String> inherited = List.of();
    private final List<Guard> guards = new ArrayList<>();
    private final List<Assumption> assumptions = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Map<Value, TensorType> types = new java.util.HashMap<>();
    private int nextId = 1;

    GraphBuilder(String name) { this.name = name; }

    public Value addInput(String name, TensorType type) {
        inputs.add(new GraphInput(name, type));
        Value v = Value.input(name);
        types.put(v, type);
        return v;
    }

    public Value addParam(String name, TensorType type, Strided data) {
        params.add(new NamedTensor(name, type, data));
        Value v = Value.param(name);
        types.put(v, type);
        return v;
    }

    public Value addConstant(String name, TensorType type, Strided data) {
        constants.add(new NamedTensor(name, type, data));
        Value v = Value.constant(name);
        types.put(v, type);
        return v;
    }

    /** Appends a node; attrs are checked against the schema and the type inferred. */
    public Value add(Op op, Attrs attrs, String source, Value... in) {
        Attrs checked = op.def().checkAttrs(attrs);
        TensorType[] ts = new TensorType[in.length];
        for (int i = 0; i < in.length; i++) {
            ts[i] = types.get(in[i]);
            if (ts[i] == null) throw new IllegalArgumentException(op.opName() + ": input " + i + " " + in[i] + " is not defined yet");
        }
        return addTyped(op, checked, op.def().inferType(ts, checked), source, in);
    }

    /** Appends a node with a given type (the verifier checks it later). */
    public Value addTyped(Op op, Attrs attrs, TensorType type, String source, Value... in) {
        Node n = new Node(nextId++, op, List.of(in), attrs, type, source);
        nodes.add(n);
        types.put(n.output(), type);
        return n.output();
    }

    /**
     * Appends a control-flow node ({@code cond}, {@code while_loop}, {@code scan}) holding
     * {@code bodies}; its output types come from them ({@link ControlFlowTypes}). Returns every
     * output.
     */
    public java.util.List<Value> addControl(Op op, Attrs attrs, List<Graph> bodies, String source, Value... in) {
        Attrs checked = op.def().checkAttrs(attrs);
        TensorType[] ts = new TensorType[in.length];
        for (int i = 0; i < in.length; i++) {
            ts[i] = types.get(in[i]);
            if (ts[i] == null) throw new IllegalArgumentException(op.opName() + ": input " + i + " " + in[i] + " is not defined yet");
        }
        List<TensorType> outTypes = ControlFlowTypes.infer(op, checked, bodies, ts);
        Node n = new Node(nextId++, op, List.of(in), checked, outTypes, source, bodies);
        addNode(n);
        return n.outputs();
    }

    /** Appends an existing node unchanged (keeps its id). */
    public Value addNode(Node n) {
        nodes.add(n);
        for (int i = 0; i < n.types().size(); i++) types.put(n.output(i), n.types().get(i));
        nextId = Math.max(nextId, n.id() + 1);
        return n.output();
    }

    /**
     * Appends {@code g}'s constants, nodes (ids kept), outputs (names kept) and guards, reading
     * {@code subst}'s replacement wherever they read a replaced value: how a control-flow body is
     * rebuilt with other inputs once they are declared here. The ledger and metadata stay behind.
     */
    public GraphBuilder copyBody(Graph g, Map<Value, Value> subst) {
        for (NamedTensor c : g.constants()) addConstant(c.name(), c.type(), c.data());
        for (Node n : g.nodes()) {
            List<Value> in = new ArrayList<>(n.inputs().size());
            for (Value v : n.inputs()) in.add(subst.getOrDefault(v, v));
            addNode(n.withInputs(in));
        }
        for (int i = 0; i < g.outputs().size(); i++) output(subst.getOrDefault(g.outputs().get(i), g.outputs().get(i)), g.outputNames().get(i));
        for (Guard gd : g.guards()) {
            addGuard(gd.value() == null || !subst.containsKey(gd.value()) ? gd
                    : new Guard(gd.kind(), gd.description(), subst.get(gd.value()), gd.expected(), gd.source()));
        }
        return this;
    }

    void reserveIdsAbove(int id) { nextId = Math.max(nextId, id + 1); }

    public TensorType typeOf(Value v) { return types.get(v); }

    /** Adds an output; its name is the rebuilt graph's at this position, else {@code output<i>}. */
    public GraphBuilder output(Value v) { return output(v, null); }

    /** Adds an output named {@code name} (null: the default, see {@link #output(Value)}). */
    public GraphBuilder output(Value v, String name) {
        outputs.add(v);
        outputNames.add(name);
        return this;
    }

    void inheritOutputNames(List<String> names) { inherited = names; }

    public GraphBuilder addGuard(Guard g) {
        guards.add(g);
        return this;
    }

    public GraphBuilder addAssumption(Assumption a) {
        assumptions.add(a);
        return this;
    }

    public GraphBuilder putMetadata(String k, String v) {
        metadata.put(k, v);
        return this;
    }

    public Graph build() {
        List<String> names = new ArrayList<>();
        boolean inherit = inherited.size() == outputs.size();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < outputs.size(); i++) {
            String n = outputNames.get(i) != null ? outputNames.get(i) : inherit ? inherited.get(i) : "output" + i;
            if (n.isEmpty() || n.length() > 256 || n.chars().anyMatch(Character::isISOControl)) {
                throw new GraphException(name + ": output " + i + " has the name '" + Printable.escape(n) + "' (1 to 256 printable characters)");
            }
            if (!seen.add(n)) throw new GraphException(name + ": two outputs are named '" + Printable.escape(n) + "'");
            names.add(n);
        }
        return new Graph(name, inputs, params, constants, nodes, outputs, names, guards, assumptions, metadata);
    }
}
