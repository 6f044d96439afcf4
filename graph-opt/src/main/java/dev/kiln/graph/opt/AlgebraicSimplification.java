package dev.kiln.graph.opt;

import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Local identities: x*1, x+0, x-0, x/1 (only when broadcasting against the constant changes
 * neither the shape nor the dtype of x), neg(neg(x)), a cast to x's own dtype, permute of
 * permute, and chains of reshape/flatten/squeeze/unsqueeze collapsed into one reshape (or
 * into nothing when the shape comes back). A symbolic chain becomes a reshape only when the
 * target has at most one symbolic dim, written as -1, and the reshape rule gives the same type.
 */
public final class AlgebraicSimplification implements Pass {
    private static final Set<Op> RESHAPES = EnumSet.of(Op.RESHAPE, Op.FLATTEN, Op.UNFLATTEN, Op.SQUEEZE, Op.UNSQUEEZE);

    @Override
    public String name() { return "simplify"; }

    @Override
    public PassResult run(Graph g) {
        GraphRewriter r = new GraphRewriter(g);
        Map<String, Integer> stats = new HashMap<>();
        for (Node n : g.nodes()) {
            if (r.pinned(n.output())) {
                r.keep(n);
                continue;
            }
            List<Value> in = r.mapAll(n.inputs());
            String rule = null;
            Value result = null;
            switch (n.op()) {
                case MUL -> {
                    result = identityOperand(g, r, n, in, 1.0, true);
                    rule = "x*1";
                }
                case ADD -> {
                    // x + (+0) turns -0 into +0: only adding -0 is the identity on floats
                    result = identityOperand(g, r, n, in, -0.0, true);
                    rule = "x+0";
                }
                case SUB -> {
                    // x - (-0) is x + 0, which turns -0 into +0: only subtracting +0 is the identity
                    result = identityOperand(g, r, n, in, 0.0, false);
                    rule = "x-0";
                }
                case DIV -> {
                    result = identityOperand(g, r, n, in, 1.0, false);
                    rule = "x/1";
                }
                case NEG -> {
                    Node p = r.producer(in.get(0));
                    if (p != null && p.op() == Op.NEG) result = p.inputs().get(0);
                    rule = "neg(neg(x))";
                }
                case CAST -> {
                    if (r.b.typeOf(in.get(0)).equals(n.type())) result = in.get(0);
                    rule = "cast to same dtype";
                }
                case PERMUTE -> {
                    result = permute(r, n, in.get(0));
                    rule = "permute(permute(x))";
                }
                case RESHAPE, FLATTEN, UNFLATTEN, SQUEEZE, UNSQUEEZE -> {
                    result = reshapeChain(r, n, in.get(0));
                    rule = "reshape chain";
                }
                default -> { }
            }
            if (result != null && r.b.typeOf(result).equals(n.type())) {
                r.replace(n, result);
                stats.merge(rule, 1, Integer::sum);
            } else {
                r.keep(n);
            }
        }
        if (stats.isEmpty()) return PassResult.unchanged(g);
        return new PassResult(r.finish(), true, stats);
    }

    /** The other operand when one is a constant of all {@code unit} (exactly, sign of zero included, on floats). */
    private static Value identityOperand(Graph g, GraphRewriter r, Node n, List<Value> in, double unit, boolean commutative) {
        if (isUnit(g, in.get(1), unit, n) && r.b.typeOf(in.get(0)).equals(n.type())) return in.get(0);
        if (commutative && isUnit(g, in.get(0), unit, n) && r.b.typeOf(in.get(1)).equals(n.type())) return in.get(1);
        return null;
    }

    private static boolean isUnit(Graph g, Value v, double unit, Node n) {
        return n.type().dtype().isFloatingPoint() ? ConstantValues.isAllExactly(g, v, unit) : ConstantValues.isAll(g, v, unit);
    }

    private static Value permute(GraphRewriter r, Node n, Value x) {
        int rank = n.type().rank();
        int[] outer = normalize(n.attrs().getInts("dims"), rank);
        Node p = r.producer(x);
        if (isIdentity(outer)) return x;
        if (p == null || p.op() != Op.PERMUTE) return null;
        int[] inner = normalize(p.attrs().getInts("dims"), rank);
        int[] composed = new int[rank];
        for (int i = 0; i < rank; i++) composed[i] = inner[outer[i]];
        Value base = p.inputs().get(0);
        return isIdentity(composed) ? base : r.add(Op.PERMUTE, Attrs.of("dims", composed), n.source(), base);
    }

    private static int[] normalize(int[] dims, int rank) {
        int[] d = dims.clone();
        for (int i = 0; i < d.length; i++) if (d[i] < 0) d[i] += rank;
        return d;
    }

    private static boolean isIdentity(int[] p) {
        for (int i = 0; i < p.length; i++) if (p[i] != i) return false;
        return true;
    }

    private static Value reshapeChain(GraphRewriter r, Node n, Value x) {
        Value base = x;
        int length = 1;
        for (Node p = r.producer(base); p != null && RESHAPES.contains(p.op()); p = r.producer(base)) {
            base = p.inputs().get(0);
            length++;
        }
        if (r.b.typeOf(base).equals(n.type())) return base;
        if (length < 2) return null;
        Attrs shape = reshapeAttrs(n.type());
        if (shape == null) return null;
        try {
            TensorType t = Op.RESHAPE.def().inferType(new TensorType[] {r.b.typeOf(base)}, Op.RESHAPE.def().checkAttrs(shape));
            if (!t.equals(n.type())) return null;
        } catch (IllegalArgumentException e) {
            return null; // the symbolic rule cannot express it; keep the chain
        }
        return r.add(Op.RESHAPE, shape, n.source(), base);
    }

    /**
     * Reshape attrs giving type t: concrete dims and one symbolic dim written as -1 (readable by
     * format 1.0), or, with several symbolic dims, the symbolic shape itself.
     */
    private static Attrs reshapeAttrs(TensorType t) {
        int[] s = new int[t.rank()];
        int symbolic = 0;
        for (int i = 0; i < s.length; i++) {
            Dim d = t.dim(i);
            if (d.isConstant()) {
                s[i] = Math.toIntExact(d.value());
            } else {
                symbolic++;
                s[i] = -1;
            }
        }
        return symbolic <= 1 ? Attrs.of("shape", s) : Attrs.of("shape", new dev.kiln.backend.op.SymbolicShape(t.shape()));
    }
}
