package dev.kiln.eager.nn.functional;

import dev.kiln.backend.DType;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.NnShapeRules;
import dev.kiln.backend.op.Op;
import dev.kiln.eager.Dispatcher;
import dev.kiln.eager.Tensor;

/**
 * Thin Tensor-level calls of the nn primitives through the dispatcher funnel, shared by
 * {@link F} and the gradient rules (which must use Tensor ops so backward is traceable).
 */
public final class NnPrimitives {
    private NnPrimitives() {}

    private static Tensor apply(Op op, Attrs a, Tensor x, Tensor w, Tensor b) {
        return b == null ? Dispatcher.apply(op, a, x, w) : Dispatcher.apply(op, a, x, w, b);
    }

    public static Tensor conv2d(Tensor x, Tensor w, Tensor b, int[] stride, int[] padding, int[] dilation, int groups) {
        return apply(Op.CONV2D, Attrs.of("stride", stride, "padding", padding, "dilation", dilation, "groups", groups), x, w, b);
    }

    public static Tensor convTranspose2d(Tensor x, Tensor w, Tensor b, int[] stride, int[] padding, int[] outputPadding,
                                         int[] dilation, int groups) {
        return apply(Op.CONV_TRANSPOSE2D, Attrs.of("stride", stride, "padding", padding, "output_padding", outputPadding,
                "dilation", dilation, "groups", groups), x, w, b);
    }

    public static Tensor conv2dWeightGrad(Tensor x, Tensor gradOut, int[] kernel, int[] stride, int[] padding, int[] dilation, int groups) {
        return Dispatcher.apply(Op.CONV2D_WEIGHT_GRAD, Attrs.of("kernel_size", kernel, "stride", stride, "padding", padding,
                "dilation", dilation, "groups", groups), x, gradOut);
    }

    public static Tensor maxPool2dIndices(Tensor x, int[] kernel, int[] stride, int[] padding, int[] dilation, boolean ceilMode) {
        return Dispatcher.apply(Op.MAX_POOL2D_INDICES, Attrs.of("kernel_size", kernel, "stride", stride, "padding", padding,
                "dilation", dilation, "ceil_mode", ceilMode), x);
    }

    /** softmax's gradient from its output y and the output gradient g: y * (g - sum(g * y)) along dim, one op (PyTorch's _softmax_backward_data). */
    public static Tensor softmaxBackward(Tensor g, Tensor y, int dim) {
        return Dispatcher.apply(Op.SOFTMAX_BACKWARD, Attrs.of("dim", dim), g, y);
    }

    /**
     * The attention's scores as its math form builds them, [.., L, S]: q k^T * scale (1/sqrt(E) when
     * null), -inf where the causal rule hides key j > query i or a bool mask is false, plus a float
     * mask. The one definition read by F.scaledDotProductAttention's math path (dropout, a mask
     * that needs a gradient) and by the gradient rule's create-graph form.
     */
    public static Tensor attentionScores(Tensor q, Tensor k, Tensor mask, boolean causal, Double scale) {
        Tensor s = q.matmul(k.transpose(-2, -1)).mul(scale != null ? scale : 1.0 / Math.sqrt(q.shape(-1)));
        if (causal) s = s.maskedFill(Tensor.onesLike(s).tril().to(DType.BOOL).logicalNot(), Double.NEGATIVE_INFINITY);
        if (mask != null) s = mask.dtype() == DType.BOOL ? s.maskedFill(mask.logicalNot(), Double.NEGATIVE_INFINITY) : s.add(mask);
        return s;
    }

    /** The fused attention primitive (no dropout); {@code mask} and {@code scale} may be null. */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, Double scale) {
        Attrs a = Attrs.of("causal", causal, "scale", scale);
        return mask == null ? Dispatcher.apply(Op.SCALED_DOT_PRODUCT_ATTENTION, a, q, k, v) : Dispatcher.apply(Op.SCALED_DOT_PRODUCT_ATTENTION, a, q, k, v, mask);
    }

    /** The attention's gradient with respect to q, k or v ({@code wrt}), from its inputs, output and output gradient. */
    public static Tensor scaledDotProductAttentionGrad(String wrt, Tensor q, Tensor k, Tensor v, Tensor out, Tensor gradOut, Tensor mask, boolean causal, Double scale) {
        Attrs a = Attrs.of("wrt", wrt, "causal", causal, "scale", scale);
        return mask == null ? Dispatcher.apply(Op.SCALED_DOT_PRODUCT_ATTENTION_GRAD, a, q, k, v, out, gradOut)
                : Dispatcher.apply(Op.SCALED_DOT_PRODUCT_ATTENTION_GRAD, a, q, k, v, out, gradOut, mask);
    }

    /** A self-attention's gradients with respect to q, k and v, stacked [3, ...], from its inputs and output gradient. */
    public static Tensor scaledDotProductAttentionBackward(Tensor q, Tensor k, Tensor v, Tensor gradOut, Tensor mask, boolean causal, Double scale) {
        Attrs a = Attrs.of("causal", causal, "scale", scale);
        return mask == null ? Dispatcher.apply(Op.SCALED_DOT_PRODUCT_ATTENTION_BACKWARD, a, q, k, v, gradOut)
                : Dispatcher.apply(Op.SCALED_DOT_PRODUCT_ATTENTION_BACKWARD, a, q, k, v, gradOut, mask);
    }

    /** layer_norm over x's last {@code dims} dims; {@code weight} and {@code bias} may be null (a bias needs the weight). */
    public static Tensor layerNorm(Tensor x, int dims, Tensor weight, Tensor bias, double eps) {
        if (weight == null && bias != null) {
            throw new IllegalArgumentException("layer_norm: the op takes a bias only after a weight (its inputs are x, weight, bias); add the bias after it");
        }
        Attrs a = Attrs.of("dims", dims, "eps", eps);
        if (weight == null) return Dispatcher.apply(Op.LAYER_NORM, a, x);
        return bias == null ? Dispatcher.apply(Op.LAYER_NORM, a, x, weight) : Dispatcher.apply(Op.LAYER_NORM, a, x, weight, bias);
    }

    /** layer_norm's gradient with respect to x or to its weight ({@code wrt}), from x, the output gradient and the weight (may be null). */
    public static Tensor layerNormGrad(String wrt, Tensor x, Tensor gradOut, Tensor weight, int dims, double eps) {
        Attrs a = Attrs.of("wrt", wrt, "dims", dims, "eps", eps);
        return weight == null ? Dispatcher.apply(Op.LAYER_NORM_GRAD, a, x, gradOut) : Dispatcher.apply(Op.LAYER_NORM_GRAD, a, x, gradOut, weight);
    }

    /** The pooled maxima in one kernel (no gradient: F.maxPool2d takes it only when none is needed). */
    public static Tensor maxPool2d(Tensor x, int[] kernel, int[] stride, int[] padding, int[] dilation, boolean ceilMode) {
        return Dispatcher.apply(Op.MAX_POOL2D, Attrs.of("kernel_size", kernel, "stride", stride, "padding", padding,
                "dilation", dilation, "ceil_mode", ceilMode), x);
    }

    /** Uniform [0, 1) shaped like x from the counter stream (seed, offset). */
    public static Tensor randLike(Tensor x, long seed, long offset) {
        return Dispatcher.apply(Op.RAND_LIKE, Attrs.of("seed", NnShapeRules.words(seed), "offset", NnShapeRules.words(offset)), x);
    }

    /**
     * The output_padding that makes a transposed convolution of a [.., gh, gw] gradient come
     * back to the input's spatial size (stride > 1 loses the remainder rows otherwise).
     */
    public static int[] outputPaddingFor(int[] inputShape, int[] gradShape, int[] kernel, int[] stride, int[] padding, int[] dilation) {
        int[] op = new int[2];
        for (int i = 0; i < 2; i++) {
            op[i] = inputShape[2 + i] - NnShapeRules.transposedLength(gradShape[2 + i], kernel[i], stride[i], padding[i], dilation[i], 0);
        }
        return op;
    }
}
