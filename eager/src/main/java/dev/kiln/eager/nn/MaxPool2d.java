package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;

/** Max pooling; stride defaults to the kernel size. */
public class MaxPool2d extends Module {
    public final int[] kernelSize, stride, padding, dilation;
    public final boolean ceilMode;

    public MaxPool2d(int kernel) { this(kernel, kernel); }

    public MaxPool2d(int kernel, int stride) {
        this(new int[] {kernel, kernel}, new int[] {stride, stride}, new int[] {0, 0}, new int[] {1, 1}, false);
    }

    public MaxPool2d(int[] kernel, int[] stride, int[] padding, int[] dilation, boolean ceilMode) {
        this.kernelSize = kernel.clone();
        this.stride = (stride == null ? kernel : stride).clone();
        this.padding = padding.clone();
        this.dilation = dilation.clone();
        this.ceilMode = ceilMode;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.dim() != 4 && x.dim() != 3) throw badInput("[N,C,H,W]", x);
        return F.maxPool2d(x, kernelSize, stride, padding, dilation, ceilMode);
    }

    @Override
    protected String extraRepr() {
        return "kernel_size=" + DefaultInit.pair(kernelSize) + ", stride=" + DefaultInit.pair(stride) + ", padding=" + DefaultInit.pair(padding)
                + ", dilation=" + DefaultInit.pair(dilation) + ", ceil_mode=" + ceilMode;
    }
}
