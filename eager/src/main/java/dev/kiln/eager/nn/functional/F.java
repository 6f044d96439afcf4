package dev.kiln.eager.nn.functional;

import dev.kiln.backend.DType;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.ShapeException;
import dev.kiln.eager.SymInt;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.random.Generator;
import java.util.Arrays;

/**
 * The functional neural-network API, named as {@code torch.nn.functional}. Everything here is
 * a composition of primitives, so results differentiate, trace and serialize like any op.
 */
public final class F {
    private F() {}

    private static final int[] ONE = {1, 1}, ZERO = {0, 0};

    // ---- convolution ----------------------------------------------------------------------

    public static Tensor conv2d(Tensor x, Tensor w, Tensor b) { return conv2d(x, w, b, ONE, ZERO, ONE, 1); }

    /** x [N,C,H,W] or unbatched [C,H,W]; w [O, C/groups, kh, kw]; b [O] or null. */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor b, int[] stride, int[] padding, int[] dilation, int groups) {
        if (x.dim() == 3) return conv2d(x.unsqueeze(0), w, b, stride, padding, dilation, groups).squeeze(0);
        return NnPrimitives.conv2d(x, w, b, stride, padding, dilation, groups);
    }

    /** {@code padding} "valid" (none) or "same" (output as large as the input; stride 1 only, odd totals pad one more on the high side). */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor b, int[] stride, String padding, int[] dilation, int groups) {
        switch (padding) {
            case "valid":
                return conv2d(x, w, b, stride, ZERO, dilation, groups);
            case "same":
                if (stride[0] != 1 || stride[1] != 1) {
                    throw new IllegalArgumentException("conv2d: padding='same' is not supported for strided convolutions, got stride " + Arrays.toString(stride));
                }
                int[] pad = new int[2];
                int[] extra = new int[2];
                for (int i = 0; i < 2; i++) {
                    int total = dilation[i] * (w.shape(2 + i) - 1);
                    pad[i] = total / 2;
                    extra[i] = total % 2;
                }
                Tensor xp = extra[0] == 0 && extra[1] == 0 ? x : x.pad(0, extra[1], 0, extra[0]);
                return conv2d(xp, w, b, stride, pad, dilation, groups);
            default:
                throw new IllegalArgumentException("conv2d: padding must be 'same', 'valid' or integers, got '" + padding + "'");
        }
    }

    /** x [N,C,L], w [O, C/groups, k]: a conv2d over a height-1 image. */
    public static Tensor conv1d(Tensor x, Tensor w, Tensor b, int stride, int padding, int dilation, int groups) {
        if (x.dim() != 3 || w.dim() != 3) {
            throw new IllegalArgumentException("conv1d: expected input [N,C,L] and weight [O,C/groups,k], got " + x.typeString() + " and " + w.typeString());
        }
        return NnPrimitives.conv2d(x.unsqueeze(2), w.unsqueeze(2), b, new int[] {1, stride}, new int[] {0, padding},
                new int[] {1, dilation}, groups).squeeze(2);
    }

    public static Tensor conv1d(Tensor x, Tensor w, Tensor b) { return conv1d(x, w, b, 1, 0, 1, 1); }

    /** Argument order as PyTorch: stride, padding, output_padding, groups, dilation; w [Cin, Cout/groups, kh, kw]. */
    public static Tensor convTranspose2d(Tensor x, Tensor w, Tensor b, int[] stride, int[] padding, int[] outputPadding, int groups, int[] dilation) {
        if (x.dim() == 3) return convTranspose2d(x.unsqueeze(0), w, b, stride, padding, outputPadding, groups, dilation).squeeze(0);
        return NnPrimitives.convTranspose2d(x, w, b, stride, padding, outputPadding, dilation, groups);
    }

    public static Tensor convTranspose2d(Tensor x, Tensor w, Tensor b) { return convTranspose2d(x, w, b, ONE, ZERO, ZERO, 1, ONE); }

    // ---- pooling --------------------------------------------------------------------------

    private static Tensor batched(String fn, Tensor x, java.util.function.UnaryOperator<Tensor> f) {
        if (x.dim() == 3) return f.apply(x.unsqueeze(0)).squeeze(0);
        if (x.dim() != 4) throw new IllegalArgumentException(fn + ": expected input [N,C,H,W] or [C,H,W], got " + x.typeString());
        return f.apply(x);
    }

    /** {@code stride} null means the kernel size, as PyTorch. */
    public static Tensor maxPool2d(Tensor x, int[] kernel, int[] stride, int[] padding, int[] dilation, boolean ceilMode) {
        int[] s = stride == null ? kernel : stride;
        return batched("maxPool2d", x, t -> Pooling.maxPool2d(t, kernel, s, padding, dilation, ceilMode));
    }

    public static Tensor maxPool2d(Tensor x, int kernel) { return maxPool2d(x, new int[] {kernel, kernel}, null, ZERO, ONE, false); }

    public static Tensor avgPool2d(Tensor x, int[] kernel, int[] stride, int[] padding, boolean ceilMode, boolean countIncludePad) {
        int[] s = stride == null ? kernel : stride;
        return batched("avgPool2d", x, t -> Pooling.avgPool2d(t, kernel, s, padding, ceilMode, countIncludePad));
    }

    public static Tensor avgPool2d(Tensor x, int kernel) { return avgPool2d(x, new int[] {kernel, kernel}, null, ZERO, false, true); }

    public static Tensor adaptiveAvgPool2d(Tensor x, int[] outputSize) {
        return batched("adaptiveAvgPool2d", x, t -> Pooling.adaptiveAvgPool2d(t, outputSize[0], outputSize[1]));
    }

    // ---- normalization --------------------------------------------------------------------

    /** Training mode normalizes by batch statistics and updates the running ones in place (either may be null). */
    public static Tensor batchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                   boolean training, double momentum, double eps) {
        return Norms.batchNorm(x, runningMean, runningVar, weight, bias, training, momentum, eps);
    }

    public static Tensor layerNorm(Tensor x, int[] normalizedShape, Tensor weight, Tensor bias, double eps) {
        return Norms.layerNorm(x, normalizedShape, weight, bias, eps);
    }

    public static Tensor groupNorm(Tensor x, int numGroups, Tensor weight, Tensor bias, double eps) {
        return Norms.groupNorm(x, numGroups, weight, bias, eps);
    }

    // ---- dropout, embedding, linear -------------------------------------------------------

    /**
     * Zeroes each element with probability p and scales the rest by 1/(1-p). The mask is a
     * rand_like draw from the default generator's stream (seed and counter recorded as op
     * attributes), so it is reproducible and visible to a tracer. Identity when not training.
     */
    public static Tensor dropout(Tensor x, double p, boolean training) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("dropout: probability must be in [0, 1], got " + p);
        if (!training || p == 0) return x;
        if (p == 1) return x.mul(0.0);
        Generator g = Generator.defaultGenerator();
        long offset = g.reserve(x.data().numel()); // the draw is an rng assumption of a trace anyway
        Tensor keep = NnPrimitives.randLike(x, g.seed(), offset).ge(p);
        return x.mul(keep.to(x.dtype())).mul(1.0 / (1 - p));
    }

    // ---- attention -----------------------------------------------------------------------

    /**
     * PyTorch 2's {@code scaled_dot_product_attention}: softmax(q k^T * scale + mask) v over
     * q [..., L, E], k [..., S, E], v [..., S, Ev] with the same leading dims (batch, heads). A bool
     * mask keeps the scores where it is true, a float mask is added; both broadcast to [..., L, S].
     * {@code causal} lets query i see keys j <= i. {@code scale} null means 1/sqrt(E).
     *
     * <p>It runs as one fused op (tiles of the scores with an online softmax; the backward pass
     * recomputes them), so memory grows as O(L + S) per head rather than L x S. Dropout on the
     * attention weights ({@code dropoutP > 0}) and a float mask that itself needs a gradient take
     * the composite form (matmul, softmax, dropout, matmul), which materializes the weights.
     */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor mask, double dropoutP, boolean causal, Double scale) {
        if (!(dropoutP >= 0 && dropoutP <= 1)) throw new IllegalArgumentException("scaledDotProductAttention: dropoutP must be in [0, 1], got " + dropoutP);
        boolean maskNeedsGrad = mask != null && mask.requiresGrad() && dev.kiln.eager.autograd.GradMode.isEnabled();
        if (dropoutP == 0 && !maskNeedsGrad) return NnPrimitives.scaledDotProductAttention(q, k, v, mask, causal, scale);
        return dropout(safeSoftmax(NnPrimitives.attentionScores(q, k, mask, causal, scale), -1), dropoutP, true).matmul(v);
    }

    /**
     * softmax over {@code dim}, but 0 for a slice whose inputs are all -inf (softmax gives NaN
     * there), with no gradient through it: PyTorch's {@code _safe_softmax}, which its
     * scaled_dot_product_attention uses from 2.5 on for a query row that sees no key.
     */
    public static Tensor safeSoftmax(Tensor x, int dim) {
        // all(x == -inf): true over an empty dim (amax refuses one), and false where a NaN is
        Tensor dead = x.detach().eq(Double.NEGATIVE_INFINITY).all(new int[] {dim}, true);
        return x.maskedFill(dead, 0).softmax(dim).maskedFill(dead, 0);
    }

    /** {@link #scaledDotProductAttention(Tensor, Tensor, Tensor, Tensor, double, boolean, Double)} without mask, dropout or causality. */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v) { return scaledDotProductAttention(q, k, v, null, 0, false, null); }

    public static Tensor embedding(Tensor indices, Tensor weight) { return embedding(indices, weight, null); }

    /** Rows of weight at indices; the row at paddingIdx (if given) receives no gradient. */
    public static Tensor embedding(Tensor indices, Tensor weight, Integer paddingIdx) {
        if (indices.dtype() != DType.INT64) throw new IllegalArgumentException("embedding: indices must be i64, got " + indices.typeString());
        int n = weight.shape(0);
        long[] ix = ValidationReads.longValues(indices);
        for (int i = 0; i < ix.length; i++) {
            if (ix[i] < 0 || ix[i] >= n) {
                throw new IllegalArgumentException("embedding: index " + ix[i] + " (at flat position " + i + ") is out of range for " + n + " embeddings");
            }
        }
        // the indices' shape plus the embedding dim, as symbolic sizes: [B, T] indices with B and T dynamic stay so
        SymInt[] shape = new SymInt[indices.dim() + 1];
        for (int d = 0; d < indices.dim(); d++) shape[d] = indices.sizeSym(d);
        shape[indices.dim()] = weight.sizeSym(1);
        Tensor out = weight.indexSelect(0, indices.reshape(-1)).reshape(shape[0], Arrays.copyOfRange(shape, 1, shape.length));
        if (paddingIdx == null) return out;
        int pad = paddingIdx < 0 ? paddingIdx + n : paddingIdx;
        // same values; the padding rows' copy is detached so their gradient is zero
        Tensor isPad = indices.eq((double) pad).unsqueeze(-1);
        return Tensor.where(isPad, out.detach(), out);
    }

    /**
     * x @ w^T + b with w [out, in]: one addmm when there is a bias, for 2-D input (whose bias
     * must then have x's dtype) and for a contiguous [..., in] with a 1-D bias of x's dtype, over
     * its rows (as PyTorch's linear); otherwise matmul + add, which promotes and broadcasts.
     */
    public static Tensor linear(Tensor x, Tensor w, Tensor b) {
        if (x.dim() == 2 && b != null) return Tensor.addmm(b, x, w.t());
        if (x.dim() > 2 && b != null && b.dim() == 1 && b.dtype() == x.dtype() && x.isContiguous() && w.dim() == 2) {
            // [..., in] as the rows of one addmm, as PyTorch's linear does: the bias is the GEMM's
            // starting C, so the product is not written and then read again by a separate add
            // (and, eagerly, not allocated twice). Sizes from sizeSym, so a trace keeps them
            // symbolic. Other biases (another dtype, more dims) keep matmul + add's broadcasting.
            // concrete sizes (type() is this run's), compared without reading a shape into Java ints
            Dim in = x.type().shape()[x.dim() - 1], wIn = w.type().shape()[1];
            if (!in.equals(wIn)) {
                throw new ShapeException("linear: the input's last dim and the weight's second must agree (input " + x.typeString()
                        + ", weight " + w.typeString() + ")");
            }
            SymInt[] lead = new SymInt[x.dim() - 1];
            SymInt rows = SymInt.of(1);
            for (int d = 0; d < lead.length; d++) rows = rows.times(lead[d] = x.sizeSym(d));
            Tensor y = Tensor.addmm(b, x.reshape(rows, x.sizeSym(x.dim() - 1)), w.t());
            SymInt[] shape = java.util.Arrays.copyOf(lead, lead.length + 1);
            shape[lead.length] = y.sizeSym(1);
            return y.view(shape[0], java.util.Arrays.copyOfRange(shape, 1, shape.length));
        }
        Tensor y = x.matmul(w.t());
        return b == null ? y : y.add(b);
    }

    // ---- activations ----------------------------------------------------------------------

    public static Tensor relu(Tensor x) { return x.relu(); }

    public static Tensor gelu(Tensor x) { return x.gelu(); }

    /** approximate: "none" (erf) or "tanh". */
    public static Tensor gelu(Tensor x, String approximate) { return x.gelu(approximate); }

    public static Tensor silu(Tensor x) { return x.silu(); }

    public static Tensor sigmoid(Tensor x) { return x.sigmoid(); }

    public static Tensor tanh(Tensor x) { return x.tanh(); }

    public static Tensor softmax(Tensor x, int dim) { return x.softmax(dim); }

    public static Tensor logSoftmax(Tensor x, int dim) { return x.logSoftmax(dim); }

    // ---- losses ---------------------------------------------------------------------------

    /** input [N,C,...] logits (or [C]); target class indices (i64 [N,...]) or class probabilities (input's shape). */
    public static Tensor crossEntropy(Tensor input, Tensor target) { return crossEntropy(input, target, CrossEntropyOptions.DEFAULT); }

    public static Tensor crossEntropy(Tensor input, Tensor target, CrossEntropyOptions options) {
        return Losses.crossEntropy(input, target, options);
    }

    public static Tensor nllLoss(Tensor logProbs, Tensor target) { return nllLoss(logProbs, target, null, -100, Reduction.MEAN); }

    public static Tensor nllLoss(Tensor logProbs, Tensor target, Tensor weight, long ignoreIndex, Reduction reduction) {
        return Losses.nllLoss(logProbs, target, weight, ignoreIndex, reduction, "nllLoss");
    }

    public static Tensor mseLoss(Tensor input, Tensor target) { return Losses.mse(input, target, Reduction.MEAN); }

    public static Tensor mseLoss(Tensor input, Tensor target, Reduction r) { return Losses.mse(input, target, r); }

    public static Tensor l1Loss(Tensor input, Tensor target) { return Losses.l1(input, target, Reduction.MEAN); }

    public static Tensor l1Loss(Tensor input, Tensor target, Reduction r) { return Losses.l1(input, target, r); }

    public static Tensor smoothL1Loss(Tensor input, Tensor target) { return Losses.smoothL1(input, target, Reduction.MEAN, 1.0); }

    public static Tensor smoothL1Loss(Tensor input, Tensor target, Reduction r, double beta) { return Losses.smoothL1(input, target, r, beta); }

    public static Tensor huberLoss(Tensor input, Tensor target) { return Losses.huber(input, target, Reduction.MEAN, 1.0); }

    /** torch.nn.functional.huber_loss: quadratic below delta, linear (slope delta) beyond. */
    public static Tensor huberLoss(Tensor input, Tensor target, Reduction r, double delta) { return Losses.huber(input, target, r, delta); }

    /** torch.nn.functional.kl_div with reduction 'mean' (as PyTorch's default; 'batchmean' is the mathematically right one). */
    public static Tensor klDiv(Tensor input, Tensor target) { return Losses.klDiv(input, target, Reduction.MEAN, false); }

    /** torch.nn.functional.kl_div: input log-probabilities, target probabilities (or log-probabilities with logTarget). */
    public static Tensor klDiv(Tensor input, Tensor target, Reduction r, boolean logTarget) { return Losses.klDiv(input, target, r, logTarget); }

    public static Tensor binaryCrossEntropy(Tensor input, Tensor target) { return Losses.bce(input, target, null, Reduction.MEAN); }

    public static Tensor binaryCrossEntropy(Tensor input, Tensor target, Tensor weight, Reduction r) { return Losses.bce(input, target, weight, r); }

    public static Tensor binaryCrossEntropyWithLogits(Tensor input, Tensor target) {
        return Losses.bceWithLogits(input, target, null, null, Reduction.MEAN);
    }

    public static Tensor binaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor weight, Tensor posWeight, Reduction r) {
        return Losses.bceWithLogits(input, target, weight, posWeight, r);
    }
}
