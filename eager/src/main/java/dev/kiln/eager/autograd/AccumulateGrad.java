package dev.kiln.eager.autograd;

import dev.kiln.eager.Tensor;
import java.util.Collections;
import java.util.List;

/** The sink node of a leaf tensor: adds the incoming gradient into {@code leaf.grad()}. */
public final class AccumulateGrad extends Node {
    private final Tensor leaf;

    AccumulateGrad(Tensor leaf) { this.leaf = leaf; }

    public Tensor variable() { return leaf; }

    @Override
    public String name() { return "AccumulateGrad"; }

    @Override
    public List<Node> nextFunctions() { return Collections.emptyList(); }

    /** Hooks run after the gradient was added to the leaf (PyTorch's post-accumulate-grad hooks). */
    final List<java.util.function.Consumer<Tensor>> postHooks = new java.util.ArrayList<>(0);

    @Override
    protected Tensor[] apply(Tensor grad) {
        return run(grad, false);
    }

    @Override
    Tensor[] run(Tensor grad, boolean owned) {
        accumulate(grad, owned);
        return new Tensor[0];
    }

    /**
     * A first grad is a private copy, as PyTorch's clone: the incoming tensor may be shared with
     * another leaf (add sends one gradient to both inputs) or be the user's seed, and in-place
     * work on one .grad must not show in the other. clone() records CloneBackward when
     * create_graph is on, and accumulation is out of place, so such a grad stays
     * differentiable. When the engine knows nothing else holds the tensor ({@code owned}: a
     * built-in rule's fresh result, no hooks, no create_graph), it becomes the grad as it is,
     * as PyTorch steals a gradient nobody else references: no copy per step of every weight.
     */
    private void accumulate(Tensor grad, boolean owned) {
        Tensor cur = leaf.grad();
        leaf.setGrad(cur != null ? cur.add(grad) : owned ? grad : grad.clone());
        for (var h : postHooks) h.accept(leaf);
    }
}
