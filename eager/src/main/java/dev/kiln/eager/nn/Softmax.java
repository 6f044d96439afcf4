package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;

/** Softmax along dim. */
public class Softmax extends Module {
    public final int dim;

    public Softmax(int dim) { this.dim = dim; }

    @Override
    protected String extraRepr() { return "dim=" + dim; }

    @Override
    public Tensor forward(Tensor x) { return x.softmax(dim); }
}
