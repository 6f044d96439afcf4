package dev.kiln.graph.opt;

import dev.kiln.graph.Assumption;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.GraphInput;
import dev.kiln.graph.Guard;
import dev.kiln.graph.NamedTensor;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keeps the nodes that outputs or guards need and drops the rest, plus constants nobody reads
 * (folding leaves those behind). Parameters stay even when unused: they are the graph's
 * interface for loading weights by name.
 */
public final class DeadCodeElimination implements Pass {
    @Override
    public String name() { return "dce"; }

    @Override
    public PassResult run(Graph g) {
        Set<Value> live = new HashSet<>(g.outputs());
        for (Guard gd : g.guards()) if (gd.value() != null) live.add(gd.value());
        List<Node> nodes = g.nodes();
        boolean[] keep = new boolean[nodes.size()];
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            boolean used = false;
            for (Value o : n.outputs()) used |= live.contains(o);
            if (used) {
                keep[i] = true;
                live.addAll(n.inputs());
            }
        }
        int removedNodes = 0;
        for (boolean k : keep) if (!k) removedNodes++;
        List<NamedTensor> usedConstants = new ArrayList<>();
        for (NamedTensor c : g.constants()) if (live.contains(Value.constant(c.name()))) usedConstants.add(c);
        int removedConstants = g.constants().size() - usedConstants.size();
        if (removedNodes == 0 && removedConstants == 0) return PassResult.unchanged(g);

        GraphBuilder b = Graph.builder(g.name());
        for (GraphInput in : g.inputs()) b.addInput(in.name(), in.type());
        for (NamedTensor p : g.params()) b.addParam(p.name(), p.type(), p.data());
        for (NamedTensor c : usedConstants) b.addConstant(c.name(), c.type(), c.data());
        for (int i = 0; i < nodes.size(); i++) if (keep[i]) b.addNode(nodes.get(i));
        for (int i = 0; i < g.outputs().size(); i++) b.output(g.outputs().get(i), g.outputNames().get(i));
        for (Guard gd : g.guards()) b.addGuard(gd);
        for (Assumption a : g.assumptions()) b.addAssumption(a);
        g.metadata().forEach(b::putMetadata);
        return new PassResult(b.build(), true, Map.of("nodes removed", removedNodes, "constants removed", removedConstants));
    }
}
