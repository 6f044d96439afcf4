package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;

/** Hyperbolic tangent. */
public class Tanh extends Module {

    @Override
    public Tensor forward(Tensor x) { return x.tanh(); }
}
