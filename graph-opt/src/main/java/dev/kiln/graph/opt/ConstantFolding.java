package dev.kiln.graph.opt;

import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.backend.cpu.CpuKernels;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphException;
import dev.kiln.graph.NamedTensor;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Evaluates nodes whose inputs are all constants (and parameters, when the caller freezes them
 * for inference) at optimization time, with the same CPU kernels the interpreter uses, and
 * turns the results into constants. A node whose result would be much larger than its inputs
 * (expand, repeat, full_like of a scalar...) is left alone: folding it would trade a cheap op
 * for a big blob in the graph and in every saved artifact.
 */
public final class ConstantFolding implements Pass {
    /** Folded results may have up to this many times the inputs' elements (plus a little slack). */
    private static final int MAX_GROWTH = 2;
    private static final int SLACK_ELEMENTS = 16;

    private final boolean freezeParams;

    public ConstantFolding(boolean freezeParams) { this.freezeParams = freezeParams; }

    @Override
    public String name() { return "fold"; }

    @Override
    public PassResult run(Graph g) {
        GraphRewriter r = new GraphRewriter(g);
        Map<Value, Strided> known = new HashMap<>();
        for (NamedTensor c : g.constants()) if (c.data() != null) known.put(Value.constant(c.name()), c.data());
        if (freezeParams) for (NamedTensor p : g.params()) if (p.data() != null) known.put(Value.param(p.name()), p.data());
        Set<String> names = new HashSet<>();
        for (NamedTensor c : g.constants()) names.add(c.name());
        int folded = 0;
        for (Node n : g.nodes()) {
            Strided[] in = new Strided[n.inputs().size()];
            long inElements = 0;
            boolean foldable = !CommonSubexpressionElimination.isRandom(n.op()) && !n.op().def().isControlFlow() && !r.pinned(n.output()) && n.type().isStatic();
            for (int i = 0; i < in.length && foldable; i++) {
                in[i] = known.get(r.map(n.inputs().get(i)));
                foldable = in[i] != null;
                if (foldable) inElements += in[i].numel();
            }
            long outElements = foldable ? dev.kiln.backend.shape.Shapes.numel(n.type().concreteShape()) : 0;
            if (!foldable || outElements > MAX_GROWTH * inElements + SLACK_ELEMENTS) {
                r.keep(n);
                continue;
            }
            Strided out;
            try {
                out = Copy.contiguousOf(CpuKernels.run(n.op(), in, n.attrs(), n.type()), n.type().dtype());
            } catch (RuntimeException e) {
                // the same failure would happen at run time; report it now, naming the node
                throw new GraphException(g.name() + ": folding " + n.describe() + " failed: " + e.getMessage(), e);
            }
            String name = "fold" + n.id();
            while (!names.add(name)) name = name + "_";
            Value c = r.b.addConstant(name, n.type(), out);
            known.put(c, out);
            r.replace(n, c);
            folded++;
        }
        if (folded == 0) return PassResult.unchanged(g);
        return new PassResult(r.finish(), true, Map.of("nodes folded", folded));
    }
}
