package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;

/** 2-D convolution layer; weight [out, in/groups, kh, kw]. */
public class Conv2d extends Module {
    public final int inChannels, outChannels, groups;
    public final int[] kernelSize, stride, padding, dilation;
    public final Tensor weight, bias;

    public Conv2d(int in, int out, int kernel) { this(in, out, kernel, 1, 0); }

    public Conv2d(int in, int out, int kernel, int stride, int padding) {
        this(in, out, new int[] {kernel, kernel}, new int[] {stride, stride}, new int[] {padding, padding}, new int[] {1, 1}, 1, true);
    }

    public Conv2d(int in, int out, int[] kernel, int[] stride, int[] padding, int[] dilation, int groups, boolean bias) {
        if (in % groups != 0 || out % groups != 0) {
            throw new IllegalArgumentException("Conv2d: in_channels " + in + " and out_channels " + out + " must be divisible by groups " + groups);
        }
        this.inChannels = in;
        this.outChannels = out;
        this.groups = groups;
        this.kernelSize = kernel.clone();
        this.stride = stride.clone();
        this.padding = padding.clone();
        this.dilation = dilation.clone();
        this.weight = registerParameter("weight", Tensor.zeros(out, in / groups, kernel[0], kernel[1]));
        this.bias = registerParameter("bias", bias ? Tensor.zeros(out) : null);
        DefaultInit.weightAndBias(weight, this.bias);
    }

    @Override
    public Tensor forward(Tensor x) {
        if ((x.dim() != 4 && x.dim() != 3) || x.shape(-3) != inChannels) throw badInput("[N," + inChannels + ",H,W]", x);
        return F.conv2d(x, weight, bias, stride, padding, dilation, groups);
    }

    @Override
    protected String shortDescription() { return "Conv2d " + inChannels + "->" + outChannels; }

    @Override
    protected String extraRepr() {
        StringBuilder sb = new StringBuilder(inChannels + ", " + outChannels + ", kernel_size=" + DefaultInit.pair(kernelSize)
                + ", stride=" + DefaultInit.pair(stride));
        if (padding[0] != 0 || padding[1] != 0) sb.append(", padding=").append(DefaultInit.pair(padding));
        if (dilation[0] != 1 || dilation[1] != 1) sb.append(", dilation=").append(DefaultInit.pair(dilation));
        if (groups != 1) sb.append(", groups=").append(groups);
        if (bias == null) sb.append(", bias=False");
        return sb.toString();
    }
}
