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

    /** x [B, T, C]; allowed [T, T] bool, true where query i may attend to key j. */
    Tensor forward(Tensor x, Tensor allowed) {
        SymInt b = x.sizeSym(0), t = x.sizeSym(1), h = SymInt.of(heads), hd = SymInt.of(width / heads);
        List<Tensor> qkvs = qkv.forward(ln1.forward(x)).split(width, 2);
        Tensor q = qkvs.get(0).view(b, t, h, hd).transpose(1, 2); // [B, H, T, hd]
        Tensor k = qkvs.get(1).view(b, t, h, hd).transpose(1, 2);
        Tensor v = qkvs.get(2).view(b, t, h, hd).transpose(1, 2);
        Tensor y;
        if (!dev.kiln.eager.autograd.GradMode.isEnabled()) {
            // inference (generation, the traced artifact): the fused attention, faster from T = 128 on and
            // never building the [B, H, T, T] weights
            y = F.scaledDotProductAttention(q, k, v, allowed, 0, false, null);
        } else {
            // training: at T = 128 the fused op's three recomputing gradient ops cost more than
            // matmul + softmax's saved weights (docs/benchmarks.md, attention rows)
            Tensor a = q.matmul(k.transpose(-2, -1)).div(Math.sqrt(width / heads));
            y = a.maskedFill(allowed.logicalNot(), Double.NEGATIVE_INFINITY).softmax(-1).matmul(v);
        }
        y = y.transpose(1, 2).reshape(b, t, SymInt.of(width));
        x = x.add(proj.forward(y));
        return x.add(out.forward(F.gelu(fc.forward(ln2.forward(x)))));
    }

    @Override
    public Tensor forward(Tensor x) { throw new UnsupportedOperationException(describe() + ": call forward(x, allowed) with the causal mask"); }
}
