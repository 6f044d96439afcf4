package dev.kiln.benchmarks;

import dev.kiln.Kiln;
import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.functional.F;
import java.util.Locale;

/**
 * Attention forward and forward+backward at T = 128, 1024 and 4096 (batch 1, 4 heads, head dim
 * 64, causal, f32). Three modes:
 * <ul>
 *   <li>no arguments: the fused scaled_dot_product_attention against the same attention written
 *       with matmul and softmax, median milliseconds and the bytes of the largest buffer each
 *       builds, as a markdown table;
 *   <li>{@code --jsonl}: the fused op's rows for the side-by-side harness, named as
 *       benchmarks/torch_attention.py's ({@code attn_fwd_t128}, {@code attn_fwdbwd_t128}, ...), the
 *       suite run twice and the second pass printed (the JIT's steady state);
 *   <li>{@code --peak T fwd|fwdbwd}: runs that call three times and exits 0. run-interleaved.sh
 *       starts it in JVMs of growing -Xmx and reports the smallest heap it runs in as
 *       {@code attn_{mode}_t{T}_peak_mib}: what the call needs at once (a JVM's resident memory
 *       says how far its heap has grown, not what the call needs). torch_attention.py reports
 *       PyTorch's peak as the growth of its resident memory during the call.
 * </ul>
 *
 * <pre>java --add-modules jdk.incubator.vector -cp ... dev.kiln.benchmarks.AttentionRows [--jsonl | --peak T MODE]</pre>
 */
public final class AttentionRows {
    private AttentionRows() {}

    private static final int HEADS = 4, HEAD_DIM = 64;
    private static final int[] LENGTHS = {128, 1024, 4096};

    static Tensor composite(Tensor q, Tensor k, Tensor v) {
        Tensor s = q.matmul(k.transpose(-2, -1)).mul(1 / Math.sqrt(q.shape(-1)));
        s = s.maskedFill(Tensor.onesLike(s).tril().to(DType.BOOL).logicalNot(), Double.NEGATIVE_INFINITY);
        return s.softmax(-1).matmul(v);
    }

    /** q, k, v (needing a gradient) and the output's gradient, [1, HEADS, t, HEAD_DIM]. */
    private static Tensor[] inputs(int t) {
        return new Tensor[] {Tensor.randn(1, HEADS, t, HEAD_DIM).requiresGrad(true), Tensor.randn(1, HEADS, t, HEAD_DIM).requiresGrad(true),
            Tensor.randn(1, HEADS, t, HEAD_DIM).requiresGrad(true), Tensor.randn(1, HEADS, t, HEAD_DIM)};
    }

    /** One forward (no autograd), or forward and backward with the gradients cleared after. */
    private static Tensor call(boolean fused, boolean backward, Tensor[] in) {
        Tensor q = in[0], k = in[1], v = in[2];
        if (!backward) {
            try (var ng = Autograd.noGrad()) {
                return fused ? F.scaledDotProductAttention(q, k, v, null, 0, true, null) : composite(q, k, v);
            }
        }
        Tensor o = fused ? F.scaledDotProductAttention(q, k, v, null, 0, true, null) : composite(q, k, v);
        o.backward(in[3]);
        for (int i = 0; i < 3; i++) in[i].setGrad(null);
        return o;
    }

    private static int reps(int t) { return t >= 4096 ? 3 : t >= 1024 ? 10 : 50; }

    public static void main(String[] args) {
        Kiln.manualSeed(0);
        if (args.length == 1 && args[0].equals("--jsonl")) {
            for (int pass = 1; pass <= 2; pass++) {
                Report report = new Report(pass == 2);
                for (int t : LENGTHS) {
                    Tensor[] in = inputs(t);
                    for (boolean backward : new boolean[] {false, true}) {
                        report.ms("attn_" + (backward ? "fwdbwd" : "fwd") + "_t" + t, Median.ms(() -> call(true, backward, in), reps(t), 2));
                    }
                }
            }
            return;
        }
        if (args.length == 3 && args[0].equals("--peak") && args[1].matches("[1-9][0-9]{0,5}") && (args[2].equals("fwd") || args[2].equals("fwdbwd"))) {
            Tensor[] in = inputs(Integer.parseInt(args[1]));
            for (int i = 0; i < 3; i++) call(true, args[2].equals("fwdbwd"), in);
            return;
        }
        if (args.length != 0) {
            System.err.println("usage: AttentionRows [--jsonl | --peak T fwd|fwdbwd]");
            System.exit(2);
        }
        System.out.println("| T | path | forward (ms) | forward + backward (ms) | largest buffer |");
        System.out.println("|---|---|---|---|---|");
        for (int t : LENGTHS) {
            Tensor[] in = inputs(t);
            for (boolean fused : new boolean[] {true, false}) {
                double fwd = Median.ms(() -> call(fused, false, in), reps(t), 2);
                double both = Median.ms(() -> call(fused, true, in), reps(t), 2);
                // fused: a 64x64 tile per thread and [T, d] tensors; composite: the [heads, T, T] scores
                long largest = fused ? 4L * HEADS * t * HEAD_DIM : 4L * HEADS * t * t;
                System.out.printf(Locale.ROOT, "| %d | %s | %.2f | %.2f | %.1f MiB |%n", t, fused ? "fused" : "matmul+softmax", fwd, both, largest / 1048576.0);
            }
        }
    }

}
