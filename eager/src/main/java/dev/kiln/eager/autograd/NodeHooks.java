package dev.kiln.eager.autograd;

import dev.kiln.eager.HookHandle;
import dev.kiln.eager.Tensor;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/** Internal bridge used by {@link Tensor} to attach hooks and accumulators to nodes. */
public final class NodeHooks {
    private NodeHooks() {}

    public static AccumulateGrad newAccumulator(Tensor leaf) { return new AccumulateGrad(leaf); }

    public static HookHandle addPreHook(Node n, UnaryOperator<Tensor> hook) {
        n.preHooks.add(hook);
        return () -> n.preHooks.remove(hook);
    }

    public static HookHandle addPostHook(AccumulateGrad n, Consumer<Tensor> hook) {
        n.postHooks.add(hook);
        return () -> n.postHooks.remove(hook);
    }

    public static void retain(Node n, Tensor t) { n.retained = t; }

    /** After an in-place op rebased t from {@code from} to {@code to}: t.grad() is the gradient of its new value. */
    public static void moveRetained(Node from, Node to, Tensor t) {
        if (from != null && from.retained == t) {
            from.retained = null;
            to.retained = t;
        }
    }
}
