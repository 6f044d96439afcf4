package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;

/**
 * torch.nn.TransformerEncoderLayer with its parameter names ({@code self_attn.*}, {@code linear1},
 * {@code linear2}, {@code norm1}, {@code norm2}): self-attention and a feed-forward block, each
 * with dropout and a residual connection, layer norm after each (post-norm, PyTorch's default) or
 * before each ({@code normFirst}); activation "relu" or "gelu".
 */
public class TransformerEncoderLayer extends Module {
    public final int dModel;
    public final boolean normFirst;
    public final String activation;
    public final MultiheadAttention selfAttn;
    public final Linear linear1, linear2;
    public final LayerNorm norm1, norm2;
    private final Dropout dropout, dropout1, dropout2;

    public TransformerEncoderLayer(int dModel, int nhead) { this(dModel, nhead, 2048, 0.1, "relu", 1e-5, false, false); }

    public TransformerEncoderLayer(int dModel, int nhead, int dimFeedforward, double dropout, String activation, double layerNormEps,
                                   boolean batchFirst, boolean normFirst) {
        if (!activation.equals("relu") && !activation.equals("gelu")) {
            throw new IllegalArgumentException("TransformerEncoderLayer: activation must be relu or gelu, got " + activation);
        }
        this.dModel = dModel;
        this.normFirst = normFirst;
        this.activation = activation;
        this.selfAttn = registerModule("self_attn", new MultiheadAttention(dModel, nhead, dropout, true, batchFirst));
        this.linear1 = registerModule("linear1", new Linear(dModel, dimFeedforward));
        this.dropout = registerModule("dropout", new Dropout(dropout));
        this.linear2 = registerModule("linear2", new Linear(dimFeedforward, dModel));
        this.norm1 = registerModule("norm1", new LayerNorm(new int[] {dModel}, layerNormEps, true));
        this.norm2 = registerModule("norm2", new LayerNorm(new int[] {dModel}, layerNormEps, true));
        this.dropout1 = registerModule("dropout1", new Dropout(dropout));
        this.dropout2 = registerModule("dropout2", new Dropout(dropout));
    }

    @Override
    public Tensor forward(Tensor src) { return forward(src, null, null); }

    /** PyTorch's forward(src, src_mask, src_key_padding_mask); either mask may be null. */
    public Tensor forward(Tensor src, Tensor srcMask, Tensor srcKeyPaddingMask) {
        Tensor x = src;
        if (normFirst) {
            x = x.add(selfAttention(norm1.call(x), srcMask, srcKeyPaddingMask));
            x = x.add(feedForward(norm2.call(x)));
        } else {
            x = norm1.call(x.add(selfAttention(x, srcMask, srcKeyPaddingMask)));
            x = norm2.call(x.add(feedForward(x)));
        }
        return x;
    }

    private Tensor selfAttention(Tensor x, Tensor mask, Tensor keyPaddingMask) {
        return dropout1.call(selfAttn.forward(x, x, x, keyPaddingMask, false, mask, true).output());
    }

    private Tensor feedForward(Tensor x) {
        Tensor h = linear1.call(x);
        h = activation.equals("gelu") ? h.gelu() : h.relu();
        return dropout2.call(linear2.call(dropout.call(h)));
    }

    @Override
    protected String shortDescription() { return "TransformerEncoderLayer d_model=" + dModel; }
}
