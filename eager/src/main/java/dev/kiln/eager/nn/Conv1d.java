package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;

/** 1-D convolution layer over [N, C, L]; weight [out, in/groups, k]. */
public class Conv1d extends Module {
    public final int inChannels, outChannels, kernelSize, stride, padding, dilation, groups;
    public final Tensor weight, bias;

    public Conv1d(int in, int out, int kernel) { this(in, out, kernel, 1, 0, 1, 1, true); }

    public Conv1d(int in, int out, int kernel, int stride, int padding, int dilation, int groups, boolean bias) {
        if (in % groups != 0 || out % groups != 0) {
            throw new IllegalArgumentException("Conv1d: in_channels " + in + " and out_channels " + out + " must be divisible by groups " + groups);
        }
        this.inChannels = in;
        this.outChannels = out;
        this.kernelSize = kernel;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        this.groups = groups;
        this.weight = registerParameter("weight", Tensor.zeros(out, in / groups, kernel));
        this.bias = registerParameter("bias", bias ? Tensor.zeros(out) : null);
        DefaultInit.weightAndBias(weight, this.bias);
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.dim() != 3 || x.shape(1) != inChannels) throw badInput("[N," + inChannels + ",L]", x);
        return F.conv1d(x, weight, bias, stride, padding, dilation, groups);
    }

    @Override
    protected String shortDescription() { return "Conv1d " + inChannels + "->" + outChannels; }

    @Override
    protected String extraRepr() {
        return inChannels + ", " + outChannels + ", kernel_size=(" + kernelSize + ",), stride=(" + stride + ",)"
                + (padding != 0 ? ", padding=(" + padding + ",)" : "") + (dilation != 1 ? ", dilation=(" + dilation + ",)" : "")
                + (groups != 1 ? ", groups=" + groups : "") + (bias == null ? ", bias=False" : "");
    }
}
