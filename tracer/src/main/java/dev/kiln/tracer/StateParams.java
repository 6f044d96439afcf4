package dev.kiln.tracer;

import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Guard;
import dev.kiln.graph.NamedTensor;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * In a training-step graph, captured tensors that the step writes in place (momentum buffers,
 * step counters) are state, not constants: they become parameters named {@code state.cN}, so
 * optimizers never fold them and runs can feed their current values.
 */
record StateParams(Graph graph, List<Value> state) {

    static StateParams of(Graph g, List<Value> state) {
        Map<Value, Value> ren = new HashMap<>();
        GraphBuilder b = Graph.builder(g.name());
        g.inputs().forEach(in -> b.addInput(in.name(), in.type()));
        for (NamedTensor p : g.params()) b.addParam(p.name(), p.type(), p.data());
        for (NamedTensor c : g.constants()) {
            Value v = Value.constant(c.name());
            if (state.contains(v)) ren.put(v, b.addParam("state." + c.name(), c.type(), c.data()));
            else b.addConstant(c.name(), c.type(), c.data());
        }
        for (Node n : g.nodes()) {
            List<Value> in = new ArrayList<>();
            for (Value v : n.inputs()) in.add(ren.getOrDefault(v, v));
            b.addNode(n.withInputs(in));
        }
        for (int i = 0; i < g.outputs().size(); i++) b.output(ren.getOrDefault(g.outputs().get(i), g.outputs().get(i)), g.outputNames().get(i));
        for (Guard gd : g.guards()) {
            b.addGuard(new Guard(gd.kind(), gd.description(), gd.value() == null ? null : ren.getOrDefault(gd.value(), gd.value()), gd.expected(), gd.source()));
        }
        g.assumptions().forEach(b::addAssumption);
        g.metadata().forEach(b::putMetadata);
        List<Value> renamed = new ArrayList<>();
        for (Value v : state) renamed.add(ren.getOrDefault(v, v));
        return new StateParams(b.build(), renamed);
    }
}
