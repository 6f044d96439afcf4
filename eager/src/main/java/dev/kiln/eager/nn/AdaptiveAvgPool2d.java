package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;

/** Average pooling to a fixed output size whatever the input size. */
public class AdaptiveAvgPool2d extends Module {
    public final int[] outputSize;

    public AdaptiveAvgPool2d(int size) { this(size, size); }

    public AdaptiveAvgPool2d(int h, int w) { this.outputSize = new int[] {h, w}; }

    @Override
    public Tensor forward(Tensor x) {
        if (x.dim() != 4 && x.dim() != 3) throw badInput("[N,C,H,W]", x);
        return F.adaptiveAvgPool2d(x, outputSize);
    }

    @Override
    protected String extraRepr() { return "output_size=" + DefaultInit.pair(outputSize); }
}
