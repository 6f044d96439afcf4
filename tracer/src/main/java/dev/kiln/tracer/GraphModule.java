package dev.kiln.tracer;

import dev.kiln.backend.cpu.Copy;
import dev.kiln.eager.Dispatcher;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.Module;
import dev.kiln.graph.Graph;
import dev.kiln.graph.NamedTensor;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A graph as an eager {@link Module}: forward replays the nodes through the dispatcher, so
 * autograd records them and a traced or loaded graph can be fine-tuned. Graph parameters
 * become module parameters under the same qualified names ({@code c1.weight}), so state
 * dicts of the original module load into it.
 */
public final class GraphModule extends Module {
    private final Graph graph;
    private final Map<String, Tensor> byGraphName = new LinkedHashMap<>();

    public GraphModule(Graph graph) {
        this.graph = graph;
        for (NamedTensor p : graph.params()) {
            Tensor t = Tensor.wrap(Copy.toContiguous(p.data(), p.type().dtype()));
            String[] path = p.name().split("\\.");
            Module owner = this;
            for (int i = 0; i < path.length - 1; i++) owner = childOf(owner, path[i]);
            if (t.dtype().isFloatingPoint()) ((Holder) holderOrSelf(owner)).param(path[path.length - 1], t);
            else ((Holder) holderOrSelf(owner)).buffer(path[path.length - 1], t);
            byGraphName.put(p.name(), t);
        }
    }

    public Graph graph() { return graph; }

    /**
     * The graph with this module's current parameter values (after fine-tuning): what to save
     * as an artifact or export. Each parameter is copied, so later training does not change it.
     */
    public Graph toGraph() {
        dev.kiln.graph.GraphBuilder b = Graph.builder(graph.name());
        for (var in : graph.inputs()) b.addInput(in.name(), in.type());
        for (NamedTensor p : graph.params()) {
            Tensor t = byGraphName.get(p.name());
            b.addParam(p.name(), p.type(), Copy.toContiguous(t.data(), p.type().dtype()));
        }
        for (NamedTensor c : graph.constants()) b.addConstant(c.name(), c.type(), c.data());
        for (var n : graph.nodes()) b.addNode(n);
        for (int i = 0; i < graph.outputs().size(); i++) b.output(graph.outputs().get(i), graph.outputNames().get(i));
        graph.guards().forEach(b::addGuard);
        graph.assumptions().forEach(b::addAssumption);
        graph.metadata().forEach(b::putMetadata);
        return b.build();
    }

    @Override
    public Tensor forward(Tensor... inputs) {
        Tensor[] outs = forwardAll(inputs);
        if (outs.length != 1) throw new IllegalStateException(graph.name() + " has " + outs.length + " outputs; use forwardAll");
        return outs[0];
    }

    @Override
    public Tensor forward(Tensor input) { return forward(new Tensor[] {input}); }

    /** All outputs of the graph. */
    public Tensor[] forwardAll(Tensor... inputs) {
        if (inputs.length != graph.inputs().size()) {
            throw new IllegalArgumentException(graph.name() + ": expected " + graph.inputs().size() + " input(s), got " + inputs.length);
        }
        Map<Value, Tensor> env = new HashMap<>();
        for (int i = 0; i < inputs.length; i++) env.put(Value.input(graph.inputs().get(i).name()), inputs[i]);
        byGraphName.forEach((k, v) -> env.put(Value.param(k), v));
        for (NamedTensor c : graph.constants()) env.put(Value.constant(c.name()), Tensor.wrap(c.data()));
        // symbolic sizes in attributes (a reshape to [N,4,4,4]) get this run's numbers; a tracer
        // of this module still sees the symbolic ones
        dev.kiln.graph.SymbolBindings sym = dev.kiln.graph.SymbolBindings.bind(graph,
                java.util.Arrays.stream(inputs).map(Tensor::data).toList());
        return evaluate(graph, env, sym);
    }

    /** Runs g's nodes as eager ops (so they are differentiable and traceable) over env, which holds its inputs, parameters and constants. */
    private static Tensor[] evaluate(Graph graph, Map<Value, Tensor> env, dev.kiln.graph.SymbolBindings sym) {
        for (Node n : graph.nodes()) {
            Tensor[] in = n.inputs().stream().map(env::get).toArray(Tensor[]::new);
            if (n.op().def().isControlFlow()) {
                Tensor[] out = ControlFlowModules.run(n, in, GraphModule::runBody);
                for (int i = 0; i < out.length; i++) env.put(n.output(i), out[i]);
                continue;
            }
            dev.kiln.backend.op.Attrs concrete = sym.concrete(n.attrs());
            env.put(n.output(), Dispatcher.apply(n.op(), concrete, concrete == n.attrs() ? null : n.attrs(), in));
        }
        return graph.outputs().stream().map(env::get).toArray(Tensor[]::new);
    }

    /** A control-flow body run eagerly on these tensors (bodies have inputs and constants, no parameters). */
    private static Tensor[] runBody(Graph body, Tensor[] inputs) {
        Map<Value, Tensor> env = new HashMap<>();
        for (int i = 0; i < inputs.length; i++) env.put(Value.input(body.inputs().get(i).name()), inputs[i]);
        for (NamedTensor c : body.constants()) env.put(Value.constant(c.name()), Tensor.wrap(c.data()));
        dev.kiln.graph.SymbolBindings sym = dev.kiln.graph.SymbolBindings.bind(body, java.util.Arrays.stream(inputs).map(Tensor::data).toList());
        return evaluate(body, env, sym);
    }

    // ---- the module tree mirroring dotted parameter names ----------------------------------

    private Module holderOrSelf(Module m) {
        if (m == this) return rootHolder();
        return m;
    }

    private Holder root;

    private Holder rootHolder() {
        if (root == null) root = new Holder(this);
        return root;
    }

    private static Module childOf(Module owner, String name) {
        Module existing = owner.namedChildren().get(name);
        if (existing != null) return existing;
        Holder h = new Holder(null);
        if (owner instanceof GraphModule g) g.addChild(name, h);
        else ((Holder) owner).addChild(name, h);
        return h;
    }

    void addChild(String name, Module m) { registerModule(name, m); }

    void addParam(String name, Tensor t) { registerParameter(name, t); }

    void addBuffer(String name, Tensor t) { registerBuffer(name, t); }

    /** A module that only holds parameters of the graph (it has no forward of its own). */
    static final class Holder extends Module {
        private final GraphModule top;

        Holder(GraphModule top) { this.top = top; }

        void param(String name, Tensor t) {
            if (top != null) top.addParam(name, t);
            else registerParameter(name, t);
        }

        void buffer(String name, Tensor t) {
            if (top != null) top.addBuffer(name, t);
            else registerBuffer(name, t);
        }

        void addChild(String name, Module m) { registerModule(name, m); }
    }
}
