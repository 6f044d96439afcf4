package dev.kiln.benchmarks;

import dev.kiln.Kiln;
import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.functional.F;
import java.util.Locale;

/**
 * Attention forward and forward+backward at T = 128, 1024 and 4096 (batch 1, 4 heads, head dim
 * 64, causal, f32): the fused scaled_dot_product_attention against the same attention written
 * with matmul and softmax, median milliseconds and the bytes of the largest buffer each builds.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp ... dev.kiln.benchmarks.AttentionRows</pre>
 */
public final class AttentionRows {
    private AttentionRows() {}

    static Tensor composite(Tensor q, Tensor k, Tensor v) {
        Tensor s = q.matmul(k.transpose(-2, -1)).mul(1 / Math.sqrt(q.shape(-1)));
        s = s.maskedFill(Tensor.onesLike(s).tril().to(DType.BOOL).logicalNot(), Double.NEGATIVE_INFINITY);
        return s.softmax(-1).matmul(v);
    }

    public static void main(String[] args) {
        Kiln.manualSeed(0);
        int heads = 4, d = 64;
        System.out.println("| T | path | forward (ms) | forward + backward (ms) | largest buffer |");
        System.out.println("|---|---|---|---|---|");
        for (int t : new int[] {128, 1024, 4096}) {
            Tensor q = Tensor.randn(1, heads, t, d).requiresGrad(true), k = Tensor.randn(1, heads, t, d).requiresGrad(true);
            Tensor v = Tensor.randn(1, heads, t, d).requiresGrad(true), g = Tensor.randn(1, heads, t, d);
            int reps = t >= 4096 ? 3 : t >= 1024 ? 10 : 50;
            for (boolean fused : new boolean[] {true, false}) {
                double fwd = Median.ms(() -> {
                    try (var ng = Autograd.noGrad()) {
                        return fused ? F.scaledDotProductAttention(q, k, v, null, 0, true, null) : composite(q, k, v);
                    }
                }, reps, 2);
                double both = Median.ms(() -> {
                    Tensor o = fused ? F.scaledDotProductAttention(q, k, v, null, 0, true, null) : composite(q, k, v);
                    o.backward(g);
                    q.setGrad(null);
                    k.setGrad(null);
                    v.setGrad(null);
                    return o;
                }, reps, 2);
                // fused: a 64x64 tile per thread and [T, d] tensors; composite: the [heads, T, T] scores
                long largest = fused ? 4L * heads * t * d : 4L * heads * t * t;
                System.out.printf(Locale.ROOT, "| %d | %s | %.2f | %.2f | %.1f MiB |%n", t, fused ? "fused" : "matmul+softmax", fwd, both, largest / 1048576.0);
            }
        }
    }
}
