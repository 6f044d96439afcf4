package dev.kiln.eager.autograd;

import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.op.ShapeRules;
import dev.kiln.backend.shape.Shapes;
import dev.kiln.eager.Dispatcher;
import dev.kiln.eager.Tensor;
import java.util.Arrays;

/**
 * Gradient sums the backward engine may do in the buffer it already holds, instead of
 * allocating a new one per contribution: a residual stream's gradient gathers a contribution
 * per block, and a split's pieces (q, k and v of a fused projection) each send one.
 *
 * <p>Only for a buffer the engine owns (computed by a rule into storage nothing else
 * references, see Engine), outside create-graph and tracing (there every sum must be an op of
 * the recorded graph). The sums are the same float additions as out of place, in the same
 * order, so the bits are the same.
 */
final class InPlaceAccumulation {
    private InPlaceAccumulation() {}

    /** Whether {@code prev += g} may be done in prev's own storage. */
    static boolean canAdd(Tensor prev, Tensor g) {
        return Dispatcher.observer() == null && prev.dtype() == g.dtype() && prev.data().isContiguous()
                && prev.data().storage() != g.data().storage() && Arrays.equals(prev.data().shape(), g.data().shape());
    }

    /**
     * A step-1 slice's gradient added into the part of {@code prev} (the owned gradient already
     * gathered for the sliced tensor) that the slice covers, in place of its rule's zero-padded
     * full-size gradient and a full-size add. Returns false, having done nothing, when the node
     * is not such a slice or prev cannot take it.
     */
    static boolean addSlice(Node node, Tensor prev, Tensor g) {
        if (!(node instanceof OpNode op) || op.op() != Op.SLICE || !op.needsGrad(0) || Dispatcher.observer() != null) return false;
        Attrs a = op.attrs();
        int[] xs = op.inputShape(0);
        if (a.getInt("step") != 1 || prev.dtype() != g.dtype() || !prev.data().isContiguous()
                || !Arrays.equals(prev.data().shape(), xs) || prev.data().storage() == g.data().storage()) return false;
        int d = Shapes.normDim("slice", a.getInt("dim"), xs.length);
        int[] b = ShapeRules.sliceBounds(xs[d], a.getInt("start"), a.getInt("end"), 1);
        int len = g.data().shape()[d];
        prev.narrow(d, b[0], len).add_(g);
        return true;
    }
}
