package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;

/** x * sigmoid(x). */
public class SiLU extends Module {

    @Override
    public Tensor forward(Tensor x) { return x.silu(); }
}
