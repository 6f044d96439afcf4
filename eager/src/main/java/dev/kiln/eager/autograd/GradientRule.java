package dev.kiln.eager.autograd;

import dev.kiln.eager.Tensor;

/** An op's backward, written with Tensor ops so that it can itself be differentiated and traced. */
@FunctionalInterface
public interface GradientRule {
    /** Returns one gradient per input (null where the input needs none). */
    Tensor[] apply(GradContext ctx, Tensor gradOutput);
}
