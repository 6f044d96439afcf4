package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;

/** Transposed 2-D convolution; weight [in, out/groups, kh, kw] (fan_in from dim 1, as PyTorch). */
public class ConvTranspose2d extends Module {
    public final int inChannels, outChannels, groups;
    public final int[] kernelSize, stride, padding, outputPadding, dilation;
    public final Tensor weight, bias;

    public ConvTranspose2d(int in, int out, int kernel, int stride) {
        this(in, out, new int[] {kernel, kernel}, new int[] {stride, stride}, new int[] {0, 0}, new int[] {0, 0}, 1, true, new int[] {1, 1});
    }

    public ConvTranspose2d(int in, int out, int[] kernel, int[] stride, int[] padding, int[] outputPadding, int groups, boolean bias, int[] dilation) {
        if (in % groups != 0 || out % groups != 0) {
            throw new IllegalArgumentException("ConvTranspose2d: in_channels " + in + " and out_channels " + out + " must be divisible by groups " + groups);
        }
        this.inChannels = in;
        this.outChannels = out;
        this.groups = groups;
        this.kernelSize = kernel.clone();
        this.stride = stride.clone();
        this.padding = padding.clone();
        this.outputPadding = outputPadding.clone();
        this.dilation = dilation.clone();
        this.weight = registerParameter("weight", Tensor.zeros(in, out / groups, kernel[0], kernel[1]));
        this.bias = registerParameter("bias", bias ? Tensor.zeros(out) : null);
        DefaultInit.weightAndBias(weight, this.bias);
    }

    @Override
    public Tensor forward(Tensor x) {
        if ((x.dim() != 4 && x.dim() != 3) || x.shape(-3) != inChannels) throw badInput("[N," + inChannels + ",H,W]", x);
        return F.convTranspose2d(x, weight, bias, stride, padding, outputPadding, groups, dilation);
    }

    @Override
    protected String shortDescription() { return "ConvTranspose2d " + inChannels + "->" + outChannels; }

    @Override
    protected String extraRepr() {
        StringBuilder sb = new StringBuilder(inChannels + ", " + outChannels + ", kernel_size=" + DefaultInit.pair(kernelSize)
                + ", stride=" + DefaultInit.pair(stride));
        if (padding[0] != 0 || padding[1] != 0) sb.append(", padding=").append(DefaultInit.pair(padding));
        if (outputPadding[0] != 0 || outputPadding[1] != 0) sb.append(", output_padding=").append(DefaultInit.pair(outputPadding));
        if (dilation[0] != 1 || dilation[1] != 1) sb.append(", dilation=").append(DefaultInit.pair(dilation));
        if (groups != 1) sb.append(", groups=").append(groups);
        if (bias == null) sb.append(", bias=False");
        return sb.toString();
    }
}
