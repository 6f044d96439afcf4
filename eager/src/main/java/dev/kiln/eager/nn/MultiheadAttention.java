package dev.kiln.eager.nn;

import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.nn.init.Init;

/**
 * torch.nn.MultiheadAttention with its parameter names ({@code in_proj_weight} [3E, E],
 * {@code in_proj_bias} [3E], {@code out_proj.weight}, {@code out_proj.bias}), so a PyTorch state
 * dict loads by name. Inputs are [L, N, E] (or [N, L, E] with batchFirst); query, key and value
 * may differ (cross-attention; key and value have the query's embedding size).
 *
 * <p>Masks follow PyTorch: a bool {@code attnMask} ([L, S] or [N*H, L, S]) is true where
 * attending is <em>not</em> allowed, a float one is added to the scores; a bool
 * {@code keyPaddingMask} [N, S] is true for keys to ignore, a float one is added. A row with every
 * key masked gives NaN, as in PyTorch. Written with unflatten/transpose/flatten and no sizes read
 * into Java, so it traces with the batch and the sequence lengths dynamic.
 */
public class MultiheadAttention extends Module {
    public final int embedDim, numHeads, headDim;
    public final double dropout;
    public final boolean batchFirst;
    public final Tensor inProjWeight, inProjBias;
    public final Linear outProj;

    /** The attention output and, when asked for, the attention weights ([N, L, S] averaged over heads, or [N, H, L, S]). */
    public record Output(Tensor output, Tensor weights) {}

    public MultiheadAttention(int embedDim, int numHeads) { this(embedDim, numHeads, 0.0, true, false); }

    public MultiheadAttention(int embedDim, int numHeads, double dropout, boolean bias, boolean batchFirst) {
        if (embedDim <= 0 || numHeads <= 0 || embedDim % numHeads != 0) {
            throw new IllegalArgumentException("MultiheadAttention: embed_dim " + embedDim + " must be divisible by num_heads " + numHeads);
        }
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("MultiheadAttention: dropout must be in [0, 1), got " + dropout);
        this.embedDim = embedDim;
        this.numHeads = numHeads;
        this.headDim = embedDim / numHeads;
        this.dropout = dropout;
        this.batchFirst = batchFirst;
        this.inProjWeight = registerParameter("in_proj_weight", Tensor.zeros(3 * embedDim, embedDim));
        this.inProjBias = registerParameter("in_proj_bias", bias ? Tensor.zeros(3 * embedDim) : null);
        this.outProj = registerModule("out_proj", new Linear(embedDim, embedDim, bias));
        // PyTorch's _reset_parameters: xavier for the packed projection, zero biases
        Init.xavierUniform_(inProjWeight, 1.0);
        if (outProj.bias != null) Init.zeros_(outProj.bias);
    }

    /** Self-attention without masks; returns only the output. */
    @Override
    public Tensor forward(Tensor x) { return forward(x, x, x, null, false, null, true).output(); }

    /** PyTorch's forward(query, key, value, key_padding_mask, need_weights, attn_mask, average_attn_weights). */
    public Output forward(Tensor query, Tensor key, Tensor value, Tensor keyPaddingMask, boolean needWeights, Tensor attnMask,
                          boolean averageAttnWeights) {
        for (Tensor t : new Tensor[] {query, key, value}) {
            if (t.dim() != 3 || t.data().shape()[2] != embedDim) throw badInput(batchFirst ? "[N,L," + embedDim + "]" : "[L,N," + embedDim + "]", t);
        }
        // batch first inside: [N, L, E]
        Tensor q = batchFirst ? query : query.transpose(0, 1);
        Tensor k = batchFirst ? key : key.transpose(0, 1);
        Tensor v = batchFirst ? value : value.transpose(0, 1);
        Tensor wq = inProjWeight.narrow(0, 0, embedDim), wk = inProjWeight.narrow(0, embedDim, embedDim), wv = inProjWeight.narrow(0, 2 * embedDim, embedDim);
        Tensor bq = inProjBias == null ? null : inProjBias.narrow(0, 0, embedDim);
        Tensor bk = inProjBias == null ? null : inProjBias.narrow(0, embedDim, embedDim);
        Tensor bv = inProjBias == null ? null : inProjBias.narrow(0, 2 * embedDim, embedDim);
        Tensor qh = heads(F.linear(q, wq, bq)), kh = heads(F.linear(k, wk, bk)), vh = heads(F.linear(v, wv, bv)); // [N, H, *, D]
        if (!needWeights && (!isTraining() || dropout == 0)) {
            // without weights and without dropout to draw, the fused attention, as PyTorch 2 runs
            // scaled_dot_product_attention there (in training too): it never builds the [N, H, L, S]
            // weights, and its gradients come from the fused ops. With dropout, training keeps the
            // math path, which draws it on the probabilities.
            Tensor mask = null;
            if (attnMask != null) mask = additive(attnMask, "attn_mask", qh.dtype(), true);
            if (keyPaddingMask != null) {
                if (keyPaddingMask.dim() != 2) throw new IllegalArgumentException("MultiheadAttention: key_padding_mask must be [N, S], got " + keyPaddingMask.typeString());
                Tensor pad = additive(keyPaddingMask, "key_padding_mask", qh.dtype(), false).unsqueeze(1).unsqueeze(1); // [N, 1, 1, S]
                mask = mask == null ? pad : mask.add(pad);
            }
            // q scaled before the product, as PyTorch's MultiheadAttention does (the same rounding)
            Tensor out = outProj.call(F.scaledDotProductAttention(qh.mul(1.0 / Math.sqrt(headDim)), kh, vh, mask, 0, false, 1.0).transpose(1, 2).flatten(2));
            return new Output(batchFirst ? out : out.transpose(0, 1), null);
        }
        // q scaled before the product, as PyTorch does
        Tensor scores = qh.mul(1.0 / Math.sqrt(headDim)).matmul(kh.transpose(-2, -1));                      // [N, H, L, S]
        if (attnMask != null) scores = scores.add(additive(attnMask, "attn_mask", scores.dtype(), true));
        if (keyPaddingMask != null) {
            if (keyPaddingMask.dim() != 2) throw new IllegalArgumentException("MultiheadAttention: key_padding_mask must be [N, S], got " + keyPaddingMask.typeString());
            scores = scores.add(additive(keyPaddingMask, "key_padding_mask", scores.dtype(), false).unsqueeze(1).unsqueeze(1));
        }
        // without weights PyTorch (2.5 on) runs scaled_dot_product_attention, whose softmax is safe: a
        // row that sees no key is 0, not NaN (NaN there would reach every row of the next layer
        // through P = 0 times NaN); with weights it returns softmax's NaN, as PyTorch does
        Tensor attn = needWeights || attnMask == null && keyPaddingMask == null ? scores.softmax(-1) : F.safeSoftmax(scores, -1);
        Tensor dropped = F.dropout(attn, dropout, isTraining());
        Tensor out = dropped.matmul(vh).transpose(1, 2).flatten(2);                                           // [N, L, E]
        out = outProj.call(out);
        if (!batchFirst) out = out.transpose(0, 1);
        Tensor weights = !needWeights ? null : averageAttnWeights ? attn.mean(1) : attn;
        return new Output(out, weights);
    }

    /** [N, L, E] -> [N, H, L, D] */
    private Tensor heads(Tensor t) { return t.unflatten(-1, numHeads, headDim).transpose(1, 2); }

    /**
     * A mask as scores to add: a bool mask gives -inf where true, a float mask is added as it is.
     * An attention mask of [N*H, L, S] is viewed as [N, H, L, S].
     */
    private Tensor additive(Tensor mask, String what, DType t, boolean attention) {
        Tensor m = mask.dtype() == DType.BOOL
                ? Tensor.where(mask, Tensor.fullLike(mask.to(t), Double.NEGATIVE_INFINITY), Tensor.zerosLike(mask.to(t))) : mask.to(t);
        if (!attention) return m;
        if (m.dim() == 2) return m;
        if (m.dim() == 3) return m.unflatten(0, -1, numHeads);
        throw new IllegalArgumentException("MultiheadAttention: " + what + " must be [L, S] or [N*num_heads, L, S], got " + mask.typeString());
    }

    @Override
    protected String shortDescription() { return "MultiheadAttention " + embedDim + "x" + numHeads; }

    @Override
    protected String extraRepr() {
        return "embed_dim=" + embedDim + ", num_heads=" + numHeads + ", dropout=" + dropout + ", batch_first=" + batchFirst;
    }
}
