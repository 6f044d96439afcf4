package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;

/** Gaussian error linear unit; approximate "none" (erf) or "tanh". */
public class GELU extends Module {
    public final String approximate;

    public GELU() { this("none"); }

    public GELU(String approximate) { this.approximate = approximate; }

    @Override
    protected String extraRepr() { return "approximate='" + approximate + "'"; }

    @Override
    public Tensor forward(Tensor x) { return x.gelu(approximate); }
}
