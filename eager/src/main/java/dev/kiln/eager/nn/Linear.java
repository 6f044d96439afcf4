package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;

/** y = x w^T + b, weight [out, in]. */
public class Linear extends Module {
    public final int inFeatures, outFeatures;
    public final Tensor weight, bias;

    public Linear(int inFeatures, int outFeatures) { this(inFeatures, outFeatures, true); }

    public Linear(int inFeatures, int outFeatures, boolean bias) {
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.weight = registerParameter("weight", Tensor.zeros(outFeatures, inFeatures));
        this.bias = registerParameter("bias", bias ? Tensor.zeros(outFeatures) : null);
        DefaultInit.weightAndBias(weight, this.bias);
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.dim() < 1 || x.shape(-1) != inFeatures) throw badInput("[*, " + inFeatures + "]", x);
        return F.linear(x, weight, bias);
    }

    @Override
    protected String shortDescription() { return "Linear " + inFeatures + "->" + outFeatures; }

    @Override
    protected String extraRepr() { return "in_features=" + inFeatures + ", out_features=" + outFeatures + ", bias=" + (bias != null); }
}
