package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;

/**
 * torch.nn.TransformerDecoderLayer with its parameter names ({@code self_attn.*},
 * {@code multihead_attn.*}, {@code linear1}, {@code linear2}, {@code norm1..3}): self-attention
 * over the target, attention over the encoder's memory and a feed-forward block, each with dropout
 * and a residual connection; post-norm (PyTorch's default) or {@code normFirst}; relu or gelu.
 */
public class TransformerDecoderLayer extends Module {
    public final int dModel;
    public final boolean normFirst;
    public final String activation;
    public final MultiheadAttention selfAttn, multiheadAttn;
    public final Linear linear1, linear2;
    public final LayerNorm norm1, norm2, norm3;
    private final Dropout dropout, dropout1, dropout2, dropout3;

    public TransformerDecoderLayer(int dModel, int nhead) { this(dModel, nhead, 2048, 0.1, "relu", 1e-5, false, false); }

    public TransformerDecoderLayer(int dModel, int nhead, int dimFeedforward, double dropout, String activation, double layerNormEps,
                                   boolean batchFirst, boolean normFirst) {
        if (!activation.equals("relu") && !activation.equals("gelu")) {
            throw new IllegalArgumentException("TransformerDecoderLayer: activation must be relu or gelu, got " + activation);
        }
        this.dModel = dModel;
        this.normFirst = normFirst;
        this.activation = activation;
        this.selfAttn = registerModule("self_attn", new MultiheadAttention(dModel, nhead, dropout, true, batchFirst));
        this.multiheadAttn = registerModule("multihead_attn", new MultiheadAttention(dModel, nhead, dropout, true, batchFirst));
        this.linear1 = registerModule("linear1", new Linear(dModel, dimFeedforward));
        this.dropout = registerModule("dropout", new Dropout(dropout));
        this.linear2 = registerModule("linear2", new Linear(dimFeedforward, dModel));
        this.norm1 = registerModule("norm1", new LayerNorm(new int[] {dModel}, layerNormEps, true));
        this.norm2 = registerModule("norm2", new LayerNorm(new int[] {dModel}, layerNormEps, true));
        this.norm3 = registerModule("norm3", new LayerNorm(new int[] {dModel}, layerNormEps, true));
        this.dropout1 = registerModule("dropout1", new Dropout(dropout));
        this.dropout2 = registerModule("dropout2", new Dropout(dropout));
        this.dropout3 = registerModule("dropout3", new Dropout(dropout));
    }

    /** PyTorch's forward(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask); masks may be null. */
    public Tensor forward(Tensor tgt, Tensor memory, Tensor tgtMask, Tensor memoryMask, Tensor tgtKeyPaddingMask, Tensor memoryKeyPaddingMask) {
        Tensor x = tgt;
        if (normFirst) {
            x = x.add(selfAttention(norm1.call(x), tgtMask, tgtKeyPaddingMask));
            x = x.add(memoryAttention(norm2.call(x), memory, memoryMask, memoryKeyPaddingMask));
            x = x.add(feedForward(norm3.call(x)));
        } else {
            x = norm1.call(x.add(selfAttention(x, tgtMask, tgtKeyPaddingMask)));
            x = norm2.call(x.add(memoryAttention(x, memory, memoryMask, memoryKeyPaddingMask)));
            x = norm3.call(x.add(feedForward(x)));
        }
        return x;
    }

    @Override
    public Tensor forward(Tensor... inputs) {
        if (inputs.length != 2) throw new IllegalArgumentException("TransformerDecoderLayer: forward(tgt, memory) takes 2 tensors, got " + inputs.length);
        return forward(inputs[0], inputs[1], null, null, null, null);
    }

    private Tensor selfAttention(Tensor x, Tensor mask, Tensor keyPaddingMask) {
        return dropout1.call(selfAttn.forward(x, x, x, keyPaddingMask, false, mask, true).output());
    }

    private Tensor memoryAttention(Tensor x, Tensor memory, Tensor mask, Tensor keyPaddingMask) {
        return dropout2.call(multiheadAttn.forward(x, memory, memory, keyPaddingMask, false, mask, true).output());
    }

    private Tensor feedForward(Tensor x) {
        Tensor h = linear1.call(x);
        h = activation.equals("gelu") ? h.gelu() : h.relu();
        return dropout3.call(linear2.call(dropout.call(h)));
    }

    @Override
    protected String shortDescription() { return "TransformerDecoderLayer d_model=" + dModel; }
}
