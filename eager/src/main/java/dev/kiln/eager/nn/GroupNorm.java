package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;

/** Normalizes groups of channels per sample, with per-channel affine parameters. */
public class GroupNorm extends Module {
    public final int numGroups, numChannels;
    public final double eps;
    public final Tensor weight, bias;

    public GroupNorm(int numGroups, int numChannels) { this(numGroups, numChannels, 1e-5, true); }

    public GroupNorm(int numGroups, int numChannels, double eps, boolean affine) {
        if (numChannels % numGroups != 0) throw new IllegalArgumentException("GroupNorm: num_channels " + numChannels + " must be divisible by num_groups " + numGroups);
        this.numGroups = numGroups;
        this.numChannels = numChannels;
        this.eps = eps;
        this.weight = registerParameter("weight", affine ? Tensor.ones(numChannels) : null);
        this.bias = registerParameter("bias", affine ? Tensor.zeros(numChannels) : null);
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.dim() < 2 || x.shape(1) != numChannels) throw badInput("[N," + numChannels + ",*]", x);
        return F.groupNorm(x, numGroups, weight, bias, eps);
    }

    @Override
    protected String extraRepr() { return numGroups + ", " + numChannels + ", eps=" + eps + ", affine=" + (weight != null); }
}
