package dev.kiln.graph.opt;

import dev.kiln.backend.op.Op;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.Map;

/**
 * Rewrites that are only right, or only worth it, for inference: log(softmax(x)) becomes
 * log_softmax(x), which is both faster and finite where softmax underflows to 0. Batch norm
 * is folded into the preceding conv/linear by {@link AffineFolding}; eval-mode dropout never
 * reaches a graph (it is an identity in eval mode, so the trace records nothing).
 */
public final class InferenceRewrites implements Pass {
    @Override
    public String name() { return "inference"; }

    @Override
    public PassResult run(Graph g) {
        GraphRewriter r = new GraphRewriter(g);
        int rewrites = 0;
        for (Node n : g.nodes()) {
            if (n.op() == Op.LOG && !r.pinned(n.output())) {
                Node p = r.producer(r.map(n.inputs().get(0)));
                if (p != null && p.op() == Op.SOFTMAX) {
                    Value v = r.add(Op.LOG_SOFTMAX, p.attrs(), n.source(), p.inputs().get(0));
                    if (r.b.typeOf(v).equals(n.type())) {
                        r.replace(n, v);
                        rewrites++;
                        continue;
                    }
                }
            }
            r.keep(n);
        }
        if (rewrites == 0) return PassResult.unchanged(g);
        return new PassResult(r.finish(), true, Map.of("log(softmax) -> log_softmax", rewrites));
    }
}
