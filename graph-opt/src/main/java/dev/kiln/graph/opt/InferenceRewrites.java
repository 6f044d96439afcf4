package dev.kiln.graph.opt;

import dev.kiln.backend.op.Op;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.Map;

/**
 * Rewrites that are only right, or only worth it, for inference: log(softmax(x)) becomes
 * log_softmax(x), which is both faster and finite where softmax underflows to 0; max pooling
 * recorded as indices + gather (the form with a gradient) becomes one max_pool2d kernel. Batch norm
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
        int pools = 0;
        Map<Value, java.util.List<Node>> users = g.users();
        for (Node n : g.nodes()) {
            if (n.op() == Op.RESHAPE && !r.pinned(n.output())) {
                Node pool = maxPoolGather(r, n);
                // only when the indices serve this gather alone: a training step's backward scatters
                // with them, and a second kernel would then compute the argmax twice
                if (pool != null && users.getOrDefault(pool.output(), java.util.List.of()).size() == 1) {
                    Value v = r.add(Op.MAX_POOL2D, pool.attrs(), n.source(), r.map(pool.inputs().get(0)));
                    if (r.b.typeOf(v).equals(n.type())) {
                        r.replace(n, v);
                        pools++;
                        continue;
                    }
                }
            }
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
        if (rewrites == 0 && pools == 0) return PassResult.unchanged(g);
        Map<String, Integer> stats = new java.util.LinkedHashMap<>();
        if (rewrites > 0) stats.put("log(softmax) -> log_softmax", rewrites);
        if (pools > 0) stats.put("max pooling gather -> max_pool2d", pools);
        return new PassResult(r.finish(), true, stats);
    }

    /**
     * Max pooling as F.maxPool2d records it when a gradient may follow:
     * reshape(gather(flatten(x, 2), flatten(max_pool2d_indices(x), 2), dim 2)). Returns the
     * indices node when {@code reshape} ends that pattern (its unused remains go to dead-code
     * elimination), else null.
     */
    private static Node maxPoolGather(GraphRewriter r, Node reshape) {
        Node gather = r.producer(r.map(reshape.inputs().get(0)));
        if (gather == null || gather.op() != Op.GATHER || gather.attrs().getInt("dim") != 2) return null;
        Node values = r.producer(gather.inputs().get(0)), index = r.producer(gather.inputs().get(1));
        if (!isFlatten2(values) || !isFlatten2(index)) return null;
        Node idx = r.producer(index.inputs().get(0));
        if (idx == null || idx.op() != Op.MAX_POOL2D_INDICES || !idx.inputs().get(0).equals(values.inputs().get(0))) return null;
        return idx;
    }

    private static boolean isFlatten2(Node n) {
        return n != null && n.op() == Op.FLATTEN && n.attrs().getInt("start") == 2 && n.attrs().getInt("end") == -1;
    }
}
