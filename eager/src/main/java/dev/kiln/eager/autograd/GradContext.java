package dev.kiln.eager.autograd;

import dev.kiln.backend.DType;
import dev.kiln.backend.op.Attrs;
import dev.kiln.eager.Tensor;

/** What a gradient rule can see of the forward call. */
public interface GradContext {
    Tensor input(int i);

    int inputCount();

    /**
     * Input i's shape as recorded in forward. Unlike {@link #input}, it does not check the
     * version: a rule that needs only the shape must not fail when the input was later written
     * in place (y.add_(1) records y as input and then overwrites it).
     */
    int[] inputShape(int i);

    /** Input i's dtype as recorded in forward (no version check, see {@link #inputShape}). */
    DType inputDType(int i);

    /**
     * Input i without the version check, for rules that use it only as a shape source
     * (expandAs, zerosLike): shapes cannot change in place, so a later write is harmless.
     */
    Tensor inputForShape(int i);

    Tensor output();

    Attrs attrs();

    /** Whether input i needs a gradient (rules may skip work for the others). */
    boolean needsGrad(int i);
}
