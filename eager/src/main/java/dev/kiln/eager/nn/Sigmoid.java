package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;

/** 1 / (1 + e^-x). */
public class Sigmoid extends Module {

    @Override
    public Tensor forward(Tensor x) { return x.sigmoid(); }
}
