package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;

/** Zeroes elements with probability p while training; identity in eval mode. */
public class Dropout extends Module {
    public final double p;

    public Dropout() { this(0.5); }

    public Dropout(double p) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("Dropout: probability must be in [0, 1], got " + p);
        this.p = p;
    }

    @Override
    public Tensor forward(Tensor x) { return F.dropout(x, p, isTraining()); }

    @Override
    protected String extraRepr() { return "p=" + p + ", inplace=False"; }
}
