package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;

/** Flattens dims start..end (default 1..-1: everything but the batch). */
public class Flatten extends Module {
    public final int startDim, endDim;

    public Flatten() { this(1, -1); }

    public Flatten(int startDim, int endDim) {
        this.startDim = startDim;
        this.endDim = endDim;
    }

    @Override
    public Tensor forward(Tensor x) { return x.flatten(startDim, endDim); }

    @Override
    protected String extraRepr() { return "start_dim=" + startDim + ", end_dim=" + endDim; }
}
