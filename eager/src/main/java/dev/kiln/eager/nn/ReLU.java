package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;

/** max(x, 0). */
public class ReLU extends Module {

    @Override
    public Tensor forward(Tensor x) { return x.relu(); }
}
