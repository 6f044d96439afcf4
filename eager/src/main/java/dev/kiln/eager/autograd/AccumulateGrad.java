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
        Tensor cur = leaf.grad();
        Tensor g = GradMode.isEnabled() ? grad : grad.detach();
        // out of place, so a grad kept from create_graph=true stays differentiable
        leaf.setGrad(cur == null ? g : cur.add(g));
        for (var h : postHooks) h.accept(leaf);
        return new Tensor[0];
    }
}
