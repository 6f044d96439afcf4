package dev.kiln.examples.gpt;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.Embedding;
import dev.kiln.eager.nn.LayerNorm;
import dev.kiln.eager.nn.Module;
import dev.kiln.eager.nn.ModuleList;
import dev.kiln.eager.nn.functional.F;

/**
 * The character-level GPT of ../shared/bench/torch_gpt.py: token and position embeddings,
 * pre-norm decoder blocks with causal self-attention and a GELU MLP, a final LayerNorm, and the
 * output projection tied to the token embedding (logits = ln(x) tok.weight^T). Input token ids
 * [B, T] (int64, T up to the context), output logits [B, T, vocab].
 */
public final class CharGpt extends Module {
    public final int vocab, context, width;
    final Embedding tok, pos;
    final ModuleList blocks = new ModuleList();
    final LayerNorm ln;

    public CharGpt(int vocab, int context, int layers, int heads, int width) {
        if (width % heads != 0) throw new IllegalArgumentException("CharGpt: width " + width + " is not divisible by " + heads + " heads");
        this.vocab = vocab;
        this.context = context;
        this.width = width;
        tok = registerModule("tok", new Embedding(vocab, width));
        pos = registerModule("pos", new Embedding(context, width));
        registerModule("blocks", blocks);
        for (int l = 0; l < layers; l++) blocks.add(new GptBlock(width, heads));
        ln = registerModule("ln", new LayerNorm(width));
    }

    @Override
    public Tensor forward(Tensor idx) {
        if (idx.dim() != 2) throw badInput("[B,T] token ids", idx);
        // positions 0..T-1 and the causal mask, computed from the input: Tensor.arange(T) would
        // read T as a Java number and pin the sequence length when the model is traced
        Tensor positions = Tensor.onesLike(idx.select(0, 0)).cumsum(0).sub(1L); // [T]
        Tensor allowed = positions.unsqueeze(1).ge(positions.unsqueeze(0)); // [T, T]: key j <= query i
        Tensor x = tok.forward(idx).add(pos.forward(positions));
        for (var blk : blocks) x = ((GptBlock) blk).forward(x, allowed);
        return F.linear(ln.forward(x), tok.weight, null);
    }

    @Override
    protected String shortDescription() { return "CharGpt vocab " + vocab + ", context " + context + ", width " + width; }
}
