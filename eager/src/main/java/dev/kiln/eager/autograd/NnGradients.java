package dev.kiln.eager.autograd;

import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.nn.functional.NnPrimitives;
import java.util.Map;

/**
 * Gradient rules of the convolution primitives. The three ops are one bilinear family: each
 * one's gradients are the other two, so every rule is itself differentiable (gradgradcheck
 * holds) and backward passes trace as ordinary conv ops.
 */
final class NnGradients {
    private NnGradients() {}

    private static final int[] SPATIAL = {0, 2, 3};

    static void register(Map<Op, GradientRule> r) {
        r.put(Op.CONV2D, NnGradients::conv2d);
        r.put(Op.CONV_TRANSPOSE2D, NnGradients::convTranspose2d);
        r.put(Op.CONV2D_WEIGHT_GRAD, NnGradients::weightGrad);
        r.put(Op.SCALED_DOT_PRODUCT_ATTENTION, NnGradients::attention);
        r.put(Op.LAYER_NORM, NnGradients::layerNorm);
    }

    /**
     * y = layer_norm(x[, w[, b]]): x's and w's gradients are layer_norm_grad ops (each recomputes
     * the rows' statistics), b's a sum over the rows. When the gradient itself must be
     * differentiable (create-graph), the same formula in composite ops instead.
     */
    private static Tensor[] layerNorm(GradContext c, Tensor g) {
        Attrs a = c.attrs();
        int dims = a.getInt("dims");
        double eps = a.getFloat("eps");
        Tensor x = c.input(0), w = c.inputCount() > 1 ? c.input(1) : null;
        if (g.dtype() != x.dtype()) g = g.to(x.dtype()); // a seed of another dtype (backward(gradient)), as PyTorch casts it
        Tensor[] out = new Tensor[c.inputCount()];
        if (GradMode.isEnabled()) return layerNormComposite(c, g, x, w, dims, eps);
        if (c.needsGrad(0)) out[0] = NnPrimitives.layerNormGrad("x", x, g, w, dims, eps);
        if (out.length > 1 && c.needsGrad(1)) out[1] = NnPrimitives.layerNormGrad("weight", x, g, null, dims, eps);
        if (out.length > 2 && c.needsGrad(2)) out[2] = g.sumToShape(c.inputShape(2));
        return out;
    }

    /** layer_norm's gradients in differentiable ops, for a backward that records a graph. */
    private static Tensor[] layerNormComposite(GradContext c, Tensor g, Tensor x, Tensor w, int dims, double eps) {
        int[] nd = new int[dims];
        for (int i = 0; i < dims; i++) nd[i] = x.dim() - dims + i;
        Tensor xc = x.sub(x.mean(nd, true));
        Tensor rstd = xc.square().mean(nd, true).add(eps).rsqrt();
        Tensor xhat = xc.mul(rstd);
        Tensor gw = w == null ? g : g.mul(w);
        Tensor[] out = new Tensor[c.inputCount()];
        if (c.needsGrad(0)) out[0] = gw.sub(gw.mean(nd, true)).sub(xhat.mul(gw.mul(xhat).mean(nd, true))).mul(rstd);
        if (out.length > 1 && c.needsGrad(1)) out[1] = g.mul(xhat).sumToShape(c.inputShape(1));
        if (out.length > 2 && c.needsGrad(2)) out[2] = g.sumToShape(c.inputShape(2));
        return out;
    }

    /**
     * y = attention(q, k, v[, mask]). A self-attention (q, k and v of one type) whose three inputs
     * all need a gradient takes one scaled_dot_product_attention_backward, which recomputes each
     * block's scores once for all three; otherwise each input's gradient is one
     * scaled_dot_product_attention_grad op, which recomputes the attention in tiles from q, k, v
     * and y (memory O(L + S) per head, at the cost of recomputing the scores per gradient). The
     * mask takes none: F.scaledDotProductAttention sends a mask that needs a gradient through the
     * composite form. When the gradient itself must be differentiable (create-graph), the same
     * formulas in composite ops instead ({@link #attentionComposite}).
     */
    private static Tensor[] attention(GradContext c, Tensor g) {
        Attrs a = c.attrs();
        Tensor q = c.input(0), k = c.input(1), v = c.input(2), mask = c.inputCount() > 3 ? c.input(3) : null;
        Tensor[] out = new Tensor[c.inputCount()];
        boolean causal = a.getBool("causal");
        Double scale = a.getOptionalFloat("scale");
        if (GradMode.isEnabled()) {
            Tensor[] all = attentionComposite(q, k, v, mask, causal, scale, g.dtype() == q.dtype() ? g : g.to(q.dtype()));
            for (int i = 0; i < 3; i++) if (c.needsGrad(i)) out[i] = all[i];
            return out;
        }
        if (c.needsGrad(0) && c.needsGrad(1) && c.needsGrad(2) && q.type().equals(k.type()) && q.type().equals(v.type())) {
            Tensor all = NnPrimitives.scaledDotProductAttentionBackward(q, k, v, g, mask, causal, scale);
            for (int i = 0; i < 3; i++) out[i] = all.select(0, i);
            return out;
        }
        String[] wrt = {"q", "k", "v"};
        for (int i = 0; i < 3; i++) {
            if (c.needsGrad(i)) out[i] = NnPrimitives.scaledDotProductAttentionGrad(wrt[i], q, k, v, c.output(), g, mask, causal, scale);
        }
        return out;
    }

    /**
     * Attention's dq, dk and dv in differentiable ops, for a backward that records a graph (a
     * second derivative): P = safe_softmax(q k^T * scale, masked), dv = P^T g, dS = P * (g v^T -
     * rowsum(P * g v^T)), dq = dS k * scale, dk = dS^T q * scale. It builds the [.., L, S] scores
     * the fused ops never do: a second derivative costs the memory of the composite form.
     */
    private static Tensor[] attentionComposite(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, Double scale, Tensor g) {
        double sc = scale != null ? scale : 1.0 / Math.sqrt(q.shape(-1));
        Tensor p = F.safeSoftmax(NnPrimitives.attentionScores(q, k, mask, causal, sc), -1);
        Tensor dp = g.matmul(v.transpose(-2, -1));
        Tensor ds = p.mul(dp.sub(dp.mul(p).sum(new int[] {-1}, true)));
        return new Tensor[] {ds.matmul(k).mul(sc), ds.transpose(-2, -1).matmul(q).mul(sc), p.transpose(-2, -1).matmul(g)};
    }

    private record Geometry(int[] stride, int[] padding, int[] dilation, int groups) {
        static Geometry of(Attrs a) { return new Geometry(a.getInts("stride"), a.getInts("padding"), a.getInts("dilation"), a.getInt("groups")); }
    }

    private static int[] kernel(Tensor w) { return new int[] {w.data().shape()[2], w.data().shape()[3]}; }

    /** y = conv2d(x, w, b): dx = conv_transpose2d(g, w), dw = conv2d_weight_grad(x, g), db = sum of g. */
    private static Tensor[] conv2d(GradContext c, Tensor g) {
        Geometry p = Geometry.of(c.attrs());
        Tensor x = c.input(0), w = c.input(1);
        Tensor[] out = new Tensor[c.inputCount()];
        if (c.needsGrad(0)) {
            int[] op = NnPrimitives.outputPaddingFor(x.data().shape(), g.data().shape(), kernel(w), p.stride, p.padding, p.dilation);
            out[0] = NnPrimitives.convTranspose2d(g, w, null, p.stride, p.padding, op, p.dilation, p.groups);
        }
        if (c.needsGrad(1)) out[1] = NnPrimitives.conv2dWeightGrad(x, g, kernel(w), p.stride, p.padding, p.dilation, p.groups);
        if (out.length > 2 && c.needsGrad(2)) out[2] = g.sum(SPATIAL, false);
        return out;
    }

    /** y = conv_transpose2d(x, w, b) is conv2d's input gradient, so dx = conv2d(g, w) and dw = conv2d_weight_grad(g, x). */
    private static Tensor[] convTranspose2d(GradContext c, Tensor g) {
        Geometry p = Geometry.of(c.attrs());
        Tensor x = c.input(0), w = c.input(1);
        Tensor[] out = new Tensor[c.inputCount()];
        Tensor dx = NnPrimitives.conv2d(g, w, null, p.stride, p.padding, p.dilation, p.groups);
        // with dilation > stride, output_padding can add a trailing row the input never reached
        int[] dxShape = dx.data().shape(), xShape = x.data().shape(); // spatial sizes: fixed unless traced as dynamic, which the slice's type rule rejects
        int extraH = dxShape[2] - xShape[2], extraW = dxShape[3] - xShape[3];
        if (c.needsGrad(0)) out[0] = extraH == 0 && extraW == 0 ? dx : dx.slice(2, 0, xShape[2]).slice(3, 0, xShape[3]);
        if (c.needsGrad(1)) {
            Tensor xs = extraH == 0 && extraW == 0 ? x : x.pad(0, extraW, 0, extraH);
            out[1] = NnPrimitives.conv2dWeightGrad(g, xs, kernel(w), p.stride, p.padding, p.dilation, p.groups);
        }
        if (out.length > 2 && c.needsGrad(2)) out[2] = g.sum(SPATIAL, false);
        return out;
    }

    /** dW = conv2d_weight_grad(x, gOut) is linear in each input: dx = conv_transpose2d(gOut, G), dgOut = conv2d(x, G). */
    private static Tensor[] weightGrad(GradContext c, Tensor g) {
        Geometry p = Geometry.of(c.attrs());
        Tensor x = c.input(0), gOut = c.input(1);
        Tensor[] out = new Tensor[2];
        if (c.needsGrad(0)) {
            int[] op = NnPrimitives.outputPaddingFor(x.data().shape(), gOut.data().shape(), kernel(g), p.stride, p.padding, p.dilation);
            out[0] = NnPrimitives.convTranspose2d(gOut, g, null, p.stride, p.padding, op, p.dilation, p.groups);
        }
        if (c.needsGrad(1)) out[1] = NnPrimitives.conv2d(x, g, null, p.stride, p.padding, p.dilation, p.groups);
        return out;
    }
}
