package dev.kiln.eager.autograd;

import dev.kiln.backend.op.Attrs;
import dev.kiln.eager.Tensor;

/** What a gradient rule can see of the forward call. */
public interface GradContext {
    Tensor input(int i);

    int inputCount();

    Tensor output();

    Attrs attrs();

    /** Whether input i needs a gradient (rules may skip work for the others). */
    boolean needsGrad(int i);
}
