package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;

/** Average pooling; stride defaults to the kernel size. */
public class AvgPool2d extends Module {
    public final int[] kernelSize, stride, padding;
    public final boolean ceilMode, countIncludePad;

    public AvgPool2d(int kernel) { this(new int[] {kernel, kernel}, null, new int[] {0, 0}, false, true); }

    public AvgPool2d(int[] kernel, int[] stride, int[] padding, boolean ceilMode, boolean countIncludePad) {
        this.kernelSize = kernel.clone();
        this.stride = (stride == null ? kernel : stride).clone();
        this.padding = padding.clone();
        this.ceilMode = ceilMode;
        this.countIncludePad = countIncludePad;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.dim() != 4 && x.dim() != 3) throw badInput("[N,C,H,W]", x);
        return F.avgPool2d(x, kernelSize, stride, padding, ceilMode, countIncludePad);
    }

    @Override
    protected String extraRepr() {
        return "kernel_size=" + DefaultInit.pair(kernelSize) + ", stride=" + DefaultInit.pair(stride) + ", padding=" + DefaultInit.pair(padding)
                + ", ceil_mode=" + ceilMode + ", count_include_pad=" + countIncludePad;
    }
}
