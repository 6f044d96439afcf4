package dev.kiln.graph.opt;

import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Guard;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The bookkeeping every rewriting pass shares: a fresh builder, a substitution map from old
 * values to their replacements, and node re-emission with substituted inputs (keeping ids, so
 * printouts before and after a pass line up). Guarded values are pinned: a guard must keep
 * checking the very value the trace saw, so passes never replace them.
 */
final class GraphRewriter {
    final Graph g;
    final GraphBuilder b;
    private final Map<Value, Value> subst = new HashMap<>();
    private final Set<Value> pinned = new HashSet<>();
    private final Map<Value, Node> producers = new HashMap<>();

    GraphRewriter(Graph g) {
        this.g = g;
        this.b = g.rebuild();
        for (Guard gd : g.guards()) if (gd.value() != null) pinned.add(gd.value());
    }

    boolean pinned(Value v) { return pinned.contains(v); }

    Value map(Value v) {
        Value r = subst.get(v);
        return r == null ? v : r;
    }

    List<Value> mapAll(List<Value> vs) {
        List<Value> out = new ArrayList<>(vs.size());
        for (Value v : vs) out.add(map(v));
        return out;
    }

    /** Emits n with its inputs substituted (same id, op, attrs, types, bodies and source line). */
    Value keep(Node n) {
        Node m = n.withInputs(mapAll(n.inputs()));
        producers.put(m.output(), m);
        return b.addNode(m);
    }

    /** Emits a new node (attrs checked, type inferred) with already-substituted inputs. */
    Value add(Op op, Attrs attrs, String source, Value... in) {
        Value v = b.add(op, attrs, source, in);
        producers.put(v, new Node(v.nodeId(), op, List.of(in), op.def().checkAttrs(attrs), b.typeOf(v), source));
        return v;
    }

    /** The node of the new graph that defines v, or null for inputs, parameters and constants. */
    Node producer(Value v) { return producers.get(v); }

    /** Makes every later use of n's output read {@code v} instead; n itself is not emitted. */
    void replace(Node n, Value v) {
        if (!g.typeOf(n.output()).equals(b.typeOf(v))) {
            throw new IllegalStateException("replacing " + n.describe() + " : " + n.type() + " with " + v + " : " + b.typeOf(v));
        }
        subst.put(n.output(), v);
    }

    /** Makes uses of value {@code v} (a constant or parameter of the same type) read {@code by}. */
    void substitute(Value v, Value by) { subst.put(v, by); }

    Graph finish() {
        for (Value v : g.outputs()) b.output(map(v));
        return b.build();
    }
}
