package dev.kiln.graph.opt;

import dev.kiln.backend.DType;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.graph.Graph;
import dev.kiln.graph.NamedTensor;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Merges nodes that compute the same op on the same inputs with the same attrs (inputs of
 * commutative ops compared as a set), and small constants with equal contents (tracing makes
 * one scalar constant per {@code x.mul(2.0)} call). Random ops ("rand*") are never merged:
 * two draws are two different values.
 */
public final class CommonSubexpressionElimination implements Pass {
    /** Constants up to this many elements are compared by content. */
    private static final int MAX_CONSTANT_COMPARE = 64;

    private static final Set<Op> COMMUTATIVE = EnumSet.of(Op.ADD, Op.MUL, Op.MAXIMUM, Op.MINIMUM, Op.EQ, Op.NE,
            Op.LOGICAL_AND, Op.LOGICAL_OR, Op.LOGICAL_XOR);

    private record Key(Op op, List<Value> inputs, Attrs attrs) {}

    private record ConstKey(String type, List<Double> values) {}

    @Override
    public String name() { return "cse"; }

    static boolean isRandom(Op op) { return op.opName().startsWith("rand"); }

    @Override
    public PassResult run(Graph g) {
        GraphRewriter r = new GraphRewriter(g);
        int constantsMerged = mergeConstants(g, r);
        Map<Key, Value> seen = new HashMap<>();
        int merged = 0;
        for (Node n : g.nodes()) {
            List<Value> in = r.mapAll(n.inputs());
            // two control-flow nodes are equal only with equal bodies: never merged
            if (isRandom(n.op()) || n.op().def().isControlFlow() || r.pinned(n.output())) {
                r.keep(n);
                continue;
            }
            List<Value> keyInputs = in;
            if (COMMUTATIVE.contains(n.op())) {
                keyInputs = new ArrayList<>(in);
                keyInputs.sort(Comparator.comparing(Value::kind).thenComparing(Value::name));
            }
            Key k = new Key(n.op(), keyInputs, n.attrs());
            Value prev = seen.get(k);
            if (prev != null && r.b.typeOf(prev).equals(n.type())) {
                r.replace(n, prev);
                merged++;
            } else {
                seen.put(k, r.keep(n));
            }
        }
        if (merged == 0 && constantsMerged == 0) return PassResult.unchanged(g);
        return new PassResult(r.finish(), true, Map.of("nodes merged", merged, "constants merged", constantsMerged));
    }

    private static int mergeConstants(Graph g, GraphRewriter r) {
        Map<ConstKey, Value> first = new HashMap<>();
        int merged = 0;
        for (NamedTensor c : g.constants()) {
            Value v = Value.constant(c.name());
            if (c.data() == null || c.data().numel() > MAX_CONSTANT_COMPARE || r.pinned(v)) continue;
            double[] vals = Copy.toContiguous(c.data(), DType.FLOAT64).storage().f64();
            // boxed doubles compare NaN equal to NaN and -0.0 unequal to 0.0: exactly "same bits" here
            ConstKey k = new ConstKey(c.type().toString(), Arrays.stream(vals).boxed().toList());
            Value prev = first.putIfAbsent(k, v);
            if (prev != null) {
                r.substitute(v, prev);
                merged++;
            }
        }
        return merged;
    }
}
