package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;
import java.util.Arrays;

/** Normalizes over the trailing {@code normalizedShape} dims, with elementwise affine parameters. */
public class LayerNorm extends Module {
    public final int[] normalizedShape;
    public final double eps;
    public final Tensor weight, bias;

    public LayerNorm(int... normalizedShape) { this(normalizedShape, 1e-5, true); }

    public LayerNorm(int[] normalizedShape, double eps, boolean elementwiseAffine) {
        this.normalizedShape = normalizedShape.clone();
        this.eps = eps;
        this.weight = registerParameter("weight", elementwiseAffine ? Tensor.ones(normalizedShape) : null);
        this.bias = registerParameter("bias", elementwiseAffine ? Tensor.zeros(normalizedShape) : null);
    }

    @Override
    public Tensor forward(Tensor x) {
        int k = normalizedShape.length;
        if (x.dim() < k || !Arrays.equals(Arrays.copyOfRange(x.data().shape(), x.dim() - k, x.dim()), normalizedShape)) {
            throw badInput("[*," + Arrays.toString(normalizedShape).replace("[", "").replace("]", "").replace(" ", "") + "]", x);
        }
        return F.layerNorm(x, normalizedShape, weight, bias, eps);
    }

    @Override
    protected String extraRepr() {
        return "(" + Arrays.toString(normalizedShape).replace("[", "").replace("]", "") + (normalizedShape.length == 1 ? ",)" : ")")
                + ", eps=" + eps + ", elementwise_affine=" + (weight != null);
    }
}
