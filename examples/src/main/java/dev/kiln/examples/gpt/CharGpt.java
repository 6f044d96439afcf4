package dev.kiln.examples.gpt;

import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.Embedding;
import dev.kiln.eager.nn.LayerNorm;
import dev.kiln.eager.nn.Module;
import dev.kiln.eager.nn.ModuleList;
import dev.kiln.eager.nn.functional.F;
import java.util.ArrayList;
import java.util.List;

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
        // positions 0..T-1, computed from the input: Tensor.arange(T) would read T as a Java
        // number and pin the sequence length when the model is traced
        Tensor positions = Tensor.onesLike(idx.select(0, 0)).cumsum(0).sub(1L); // [T]
        Tensor x = tok.forward(idx).add(pos.forward(positions));
        for (var blk : blocks) x = blk.forward(x);
        return F.linear(ln.forward(x), tok.weight, null);
    }

    /** Logits of the new positions, and every layer's key/value cache after them. */
    public record Step(Tensor logits, List<Tensor> keys, List<Tensor> values) {}

    /**
     * Incremental decoding with a key/value cache of C slots per layer ([B, H, C, hd]; C up to
     * the context, {@link #emptyCache} gives the whole context): the logits of T new ids [B, T] at positions
     * {@code start} .. start+T-1 ({@code start} an i64 scalar: how many slots are filled). The new
     * keys and values go into their slots and the queries attend to the cache instead of
     * recomputing it, so a step costs one position's work, not a forward over all of them. All
     * positions and masks are computed from tensors, so a trace keeps B and T symbolic and the
     * start a value. start + T must not pass C.
     */
    public Step forward(Tensor idx, Tensor start, List<Tensor> cacheKeys, List<Tensor> cacheValues) {
        if (idx.dim() != 2) throw badInput("[B,T] token ids", idx);
        if (cacheKeys.size() != blocks.size() || cacheValues.size() != blocks.size()) {
            throw new IllegalArgumentException(describe() + ": the cache needs keys and values for " + blocks.size() + " layers, got "
                    + cacheKeys.size() + " and " + cacheValues.size());
        }
        Tensor positions = Tensor.onesLike(idx.select(0, 0)).cumsum(0).sub(1L).add(start); // [T]: start .. start+T-1
        Tensor slots = Tensor.onesLike(cacheKeys.get(0).select(0, 0).select(0, 0).select(1, 0)).to(DType.INT64).cumsum(0).sub(1L); // [C]
        Tensor offset = slots.sub(start); // slot c holds new position c - start
        Tensor count = Tensor.onesLike(idx.select(0, 0)).sum(); // T, as a value
        Tensor write = offset.ge(0.0).logicalAnd(offset.lt(count)); // [C]
        Tensor index = Tensor.where(write, offset, Tensor.zerosLike(offset)); // [C]: a valid row of the new keys everywhere
        // each new position's own slot, looked up twice so that any position outside [0, C) fails
        // here (index_select names the index) rather than dropping keys and values or wrapping:
        // index_select takes -C..C-1, so p checks p < C and p - C checks p >= 0; both give p
        Tensor capacity = Tensor.onesLike(slots).sum(); // C, as a value
        Tensor positionSlots = slots.indexSelect(0, positions).maximum(slots.indexSelect(0, positions.sub(capacity)));
        Tensor allowed = positionSlots.unsqueeze(1).ge(slots.unsqueeze(0)); // [T, C]: filled slots up to each query's own position
        Tensor x = tok.forward(idx).add(pos.forward(positions));
        List<Tensor> keys = new ArrayList<>(), values = new ArrayList<>();
        for (int l = 0; l < blocks.size(); l++) {
            GptBlock.Cached c = ((GptBlock) blocks.get(l)).forward(x, allowed, write, index, cacheKeys.get(l), cacheValues.get(l));
            x = c.x();
            keys.add(c.keys());
            values.add(c.values());
        }
        return new Step(F.linear(ln.forward(x), tok.weight, null), keys, values);
    }

    /** An empty cache for a batch of {@code b}: per layer, [b, H, context, hd] of zeros (unfilled slots are never attended to). */
    public List<Tensor> emptyCache(int b) {
        List<Tensor> c = new ArrayList<>();
        for (var blk : blocks) c.add(Tensor.zeros(b, ((GptBlock) blk).heads(), context, ((GptBlock) blk).headDim()));
        return c;
    }

    public int layers() { return blocks.size(); }

    @Override
    protected String shortDescription() { return "CharGpt vocab " + vocab + ", context " + context + ", width " + width; }
}
