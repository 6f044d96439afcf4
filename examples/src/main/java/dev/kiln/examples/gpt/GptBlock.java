package dev.kiln.examples.gpt;

import dev.kiln.eager.SymInt;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.LayerNorm;
import dev.kiln.eager.nn.Linear;
import dev.kiln.eager.nn.Module;
import dev.kiln.eager.nn.functional.F;
import java.util.List;

/**
 * One pre-norm decoder block of torch_gpt.py: x + proj(causal self-attention(ln1(x))), then
 * x + out(gelu(fc(ln2(x)))). Sizes come from {@link SymInt}s so a trace keeps the batch and the
 * sequence length symbolic.
 */
final class GptBlock extends Module {
    private final int width, heads;
    final LayerNorm ln1, ln2;
    final Linear qkv, proj, fc, out;

    GptBlock(int width, int heads) {
        this.width = width;
        this.heads = heads;
        ln1 = registerModule("ln1", new LayerNorm(width));
        qkv = registerModule("qkv", new Linear(width, 3 * width));
        proj = registerModule("proj", new Linear(width, width));
        ln2 = registerModule("ln2", new LayerNorm(width));
        fc = registerModule("fc", new Linear(width, 4 * width));
        out = registerModule("out", new Linear(4 * width, width));
    }

    /**
     * x [B, T, C], causal self-attention: the fused op with its causal rule (key j <= query i), so
     * no [T, T] mask and no [B, H, T, T] weights are built, forward or backward (its gradient is
     * one pass for q, k and v together).
     */
    @Override
    public Tensor forward(Tensor x) {
        SymInt b = x.sizeSym(0), t = x.sizeSym(1), h = SymInt.of(heads), hd = SymInt.of(width / heads);
        List<Tensor> qkvs = qkv.forward(ln1.forward(x)).split(width, 2);
        Tensor q = qkvs.get(0).view(b, t, h, hd).transpose(1, 2); // [B, H, T, hd]
        Tensor k = qkvs.get(1).view(b, t, h, hd).transpose(1, 2);
        Tensor v = qkvs.get(2).view(b, t, h, hd).transpose(1, 2);
        Tensor y = F.scaledDotProductAttention(q, k, v, null, 0, true, null).transpose(1, 2).reshape(b, t, SymInt.of(width));
        x = x.add(proj.forward(y));
        return x.add(out.forward(F.gelu(fc.forward(ln2.forward(x)))));
    }

    /** The block's output and its key/value cache after this step ([B, H, C, hd] each). */
    record Cached(Tensor x, Tensor keys, Tensor values) {}

    /**
     * One block over T new positions with a cache of C slots: the new keys and values are written
     * into the slots where {@code write} is true (slot c takes new position {@code index[c]}),
     * then the queries attend to the slots {@code allowed} [T, C] lets them see (the filled ones,
     * causally). The cache keeps its length C (symbolic in a trace), so a trace has no size to
     * add: Kiln's symbolic dims are products (B*T), and a cache growing to P+T would need a sum.
     */
    Cached forward(Tensor x, Tensor allowed, Tensor write, Tensor index, Tensor cacheKeys, Tensor cacheValues) {
        SymInt b = x.sizeSym(0), t = x.sizeSym(1), h = SymInt.of(heads), hd = SymInt.of(width / heads);
        List<Tensor> qkvs = qkv.forward(ln1.forward(x)).split(width, 2);
        Tensor q = qkvs.get(0).view(b, t, h, hd).transpose(1, 2); // [B, H, T, hd]
        Tensor slot = write.unsqueeze(1); // [C, 1], over [B, H, C, hd]
        Tensor k = Tensor.where(slot, qkvs.get(1).view(b, t, h, hd).transpose(1, 2).indexSelect(2, index), cacheKeys);
        Tensor v = Tensor.where(slot, qkvs.get(2).view(b, t, h, hd).transpose(1, 2).indexSelect(2, index), cacheValues);
        Tensor y = F.scaledDotProductAttention(q, k, v, allowed, 0, false, null).transpose(1, 2).reshape(b, t, SymInt.of(width));
        x = x.add(proj.forward(y));
        return new Cached(x.add(out.forward(F.gelu(fc.forward(ln2.forward(x))))), k, v);
    }

    int heads() { return heads; }

    int headDim() { return width / heads; }
}
