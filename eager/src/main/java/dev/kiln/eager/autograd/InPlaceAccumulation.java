package dev.kiln.eager.autograd;

import dev.kiln.eager.Dispatcher;
import dev.kiln.eager.Tensor;
import java.util.Arrays;

/**
 * Gradient sums the backward engine may do in the buffer it already holds, instead of
 * allocating a new one per contribution: a residual stream's gradient gathers a contribution
 * per block ({@link SlicePieces} joins a split's pieces).
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
}
