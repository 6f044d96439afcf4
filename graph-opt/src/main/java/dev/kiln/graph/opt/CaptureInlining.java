package dev.kiln.graph.opt;

import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.graph.ControlFlowTypes;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.GraphInput;
import dev.kiln.graph.NamedTensor;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Moves constants (and parameters, when frozen for inference) that a control-flow node passes to
 * its bodies as captured inputs into the bodies as constants, so the passes inside a body can
 * fold what depends only on them: an RNN step's {@code w_hh.t()} becomes one contiguous constant
 * instead of a transposed view multiplied at every step. Only loop-invariant positions move:
 * a scan's and a while loop's captures, and any cond operand (both branches read it as given).
 */
public final class CaptureInlining implements Pass {
    private final boolean freezeParams;

    public CaptureInlining(boolean freezeParams) { this.freezeParams = freezeParams; }

    @Override
    public String name() { return "captures"; }

    @Override
    public PassResult run(Graph g) {
        Map<Value, Strided> known = new HashMap<>();
        for (NamedTensor c : g.constants()) if (c.data() != null) known.put(Value.constant(c.name()), c.data());
        if (freezeParams) for (NamedTensor p : g.params()) if (p.data() != null) known.put(Value.param(p.name()), p.data());
        if (known.isEmpty() || g.nodes().stream().allMatch(n -> n.bodies().isEmpty())) return PassResult.unchanged(g);
        GraphBuilder b = g.rebuild();
        int moved = 0;
        for (Node n : g.nodes()) {
            int first = firstInvariant(n);
            List<Integer> inline = new ArrayList<>();
            for (int p = first; p < n.inputs().size() && first >= 0; p++) if (known.containsKey(n.inputs().get(p))) inline.add(p);
            if (inline.isEmpty()) {
                b.addNode(n);
                continue;
            }
            int offset = n.op() == dev.kiln.backend.op.Op.COND ? 1 : 0; // a cond body's inputs are its node's inputs after the predicate
            Map<Integer, Strided> data = new HashMap<>();
            for (int p : inline) data.put(p - offset, known.get(n.inputs().get(p)));
            List<Graph> bodies = new ArrayList<>();
            for (Graph body : n.bodies()) bodies.add(inlineInputs(body, data));
            List<Value> inputs = new ArrayList<>();
            for (int p = 0; p < n.inputs().size(); p++) if (!inline.contains(p)) inputs.add(n.inputs().get(p));
            Attrs attrs = n.attrs();
            if (attrs.has("captures")) {
                Map<String, Object> m = new HashMap<>(attrs.asMap());
                m.put("captures", attrs.getInt("captures") - inline.size());
                attrs = n.op().def().checkAttrs(Attrs.ofMap(m));
            }
            b.addNode(new Node(n.id(), n.op(), inputs, attrs, n.types(), n.source(), bodies));
            moved += inline.size();
        }
        if (moved == 0) return PassResult.unchanged(g);
        for (Value v : g.outputs()) b.output(v);
        return new PassResult(b.build(), true, Map.of("captures inlined", moved));
    }

    /** The first node input that is the same in every step or branch, or -1 when the node has no bodies. */
    private static int firstInvariant(Node n) {
        if (n.bodies().isEmpty()) return -1;
        return switch (n.op()) {
            case SCAN -> {
                ControlFlowTypes.ScanLayout l = ControlFlowTypes.ScanLayout.of(n);
                yield l.carries() + l.xs();
            }
            case WHILE_LOOP -> n.inputs().size() - n.attrs().getInt("captures");
            case COND -> 1;
            default -> -1;
        };
    }

    /** The body with the inputs at these positions turned into constants holding this data. */
    private static Graph inlineInputs(Graph body, Map<Integer, Strided> data) {
        GraphBuilder b = Graph.builder(body.name());
        Set<String> names = new HashSet<>();
        for (NamedTensor c : body.constants()) names.add(c.name());
        Map<Value, Value> subst = new HashMap<>();
        for (int i = 0; i < body.inputs().size(); i++) {
            GraphInput in = body.inputs().get(i);
            if (!data.containsKey(i)) {
                b.addInput(in.name(), in.type());
                continue;
            }
            String name = in.name();
            while (!names.add(name)) name = name + "_";
            subst.put(Value.input(in.name()), b.addConstant(name, in.type(), data.get(i)));
        }
        b.copyBody(body, subst);
        return b.build();
    }
}
