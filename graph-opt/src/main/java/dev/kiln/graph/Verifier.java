package dev.kiln.graph;

import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.shape.TensorType;
import java.util.HashSet;
import java.util.Set;

/**
 * Checks a graph's invariants: unique names and SSA ids, every input defined before use
 * (which also rules out cycles), attrs valid for the op's schema, and every node's declared
 * type equal to its op's shape rule applied to its inputs' types (symbolically).
 */
public final class Verifier {
    private Verifier() {}

    public static void verify(Graph g) {
        Set<Value> defined = new HashSet<>();
        // every symbol a node's type or a symbolic size uses must come from an input's type, where a run binds it
        Set<String> symbols = new HashSet<>();
        for (GraphInput in : g.inputs()) {
            if (!defined.add(Value.input(in.name()))) fail(g, "input %" + in.name() + " is defined twice");
            for (dev.kiln.backend.shape.Dim d : in.type().shape()) symbols.addAll(d.symbols());
        }
        for (NamedTensor p : g.params()) {
            if (!defined.add(Value.param(p.name()))) fail(g, "parameter " + p.name() + " is defined twice");
            if (p.data() != null && !sameShape(p)) fail(g, "parameter " + p.name() + " has data of shape " + shapeOf(p) + " but type " + p.type());
        }
        for (NamedTensor c : g.constants()) {
            if (!defined.add(Value.constant(c.name()))) fail(g, "constant %" + c.name() + " is defined twice");
        }
        for (Node n : g.nodes()) {
            for (int i = 0; i < n.inputs().size(); i++) {
                Value v = n.inputs().get(i);
                if (!defined.contains(v)) {
                    fail(g, n.describe() + ": input " + i + " " + v + " is used before it is defined"
                            + (g.typeOf(v) != null ? " (the nodes are not in topological order, or there is a cycle)" : " (it does not exist)"));
                }
            }
            Attrs checked;
            try {
                checked = n.op().def().checkAttrs(n.attrs());
            } catch (IllegalArgumentException e) {
                throw new GraphException(g.name() + ": " + n.describe() + ": " + e.getMessage(), e);
            }
            if (!checked.equals(n.attrs())) {
                fail(g, n.describe() + ": attrs " + n.attrs() + " are not in normal form (expected " + checked + ")");
            }
            TensorType[] ts = n.inputs().stream().map(g::typeOf).toArray(TensorType[]::new);
            java.util.List<TensorType> expected;
            try {
                expected = n.op().def().isControlFlow() ? ControlFlowTypes.infer(n.op(), checked, n.bodies(), ts)
                        : java.util.List.of(n.op().def().inferType(ts, checked));
            } catch (IllegalArgumentException e) {
                throw new GraphException(g.name() + ": " + n.describe() + ": " + e.getMessage(), e);
            }
            if (!expected.equals(n.types())) {
                fail(g, n.describe() + ": declared type" + (n.types().size() == 1 ? " " + n.type() : "s " + n.types())
                        + " but the " + (n.op().def().isControlFlow() ? "bodies give " : "shape rule gives ") + (expected.size() == 1 ? expected.get(0) : expected));
            }
            for (Graph body : n.bodies()) {
                if (!body.params().isEmpty()) {
                    fail(g, n.describe() + ": body '" + body.name() + "' has parameters " + body.params().stream().map(NamedTensor::name).toList()
                            + "; a body reads weights as inputs the node passes in (captures)");
                }
                try {
                    verify(body);
                } catch (GraphException e) {
                    throw new GraphException(g.name() + ": " + n.describe() + ": body " + e.getMessage(), e);
                }
            }
            for (TensorType t : n.types()) {
                for (dev.kiln.backend.shape.Dim d : t.shape()) {
                    for (String s : d.symbols()) if (!symbols.contains(s)) fail(g, n.describe() + ": symbol " + s + " in its type is bound by no input");
                }
            }
            for (Value out : n.outputs()) if (!defined.add(out)) fail(g, "node id %" + n.id() + " is defined twice (not SSA)");
        }
        if (g.outputs().isEmpty()) fail(g, "the graph has no outputs");
        for (Value v : g.outputs()) {
            if (!defined.contains(v)) fail(g, "output " + v + " is not defined");
        }
        for (Guard gd : g.guards()) {
            if (!defined.contains(gd.value())) fail(g, "guard '" + gd.description() + "' refers to undefined value " + gd.value());
        }
    }

    private static boolean sameShape(NamedTensor p) {
        return !p.type().isStatic() || java.util.Arrays.equals(p.type().concreteShape(), p.data().shape());
    }

    private static String shapeOf(NamedTensor p) { return java.util.Arrays.toString(p.data().shape()); }

    private static void fail(Graph g, String msg) { throw new GraphException(g.name() + ": " + msg); }
}
