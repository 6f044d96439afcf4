package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;

/** Log-softmax along dim. */
public class LogSoftmax extends Module {
    public final int dim;

    public LogSoftmax(int dim) { this.dim = dim; }

    @Override
    protected String extraRepr() { return "dim=" + dim; }

    @Override
    public Tensor forward(Tensor x) { return x.logSoftmax(dim); }
}
