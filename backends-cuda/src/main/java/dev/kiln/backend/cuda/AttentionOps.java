package dev.kiln.backend.cuda;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cuda.CudaExecutor.OpScope;
import dev.kiln.backend.cuda.CudaExecutor.View;
import dev.kiln.backend.cuda.KernelArgs.Ptr;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import java.util.Arrays;

/**
 * scaled_dot_product_attention, scaled_dot_product_attention_grad and (from the same kernels)
 * scaled_dot_product_attention_backward on CUDA (attention.cu):
 * fused, one block per query row (or key row for dk and dv) with an online softmax, so no
 * L x S buffer is ever allocated. The semantics are Op.java's, as the CPU kernel
 * (AttentionKernels) computes them: the scale defaults to 1/sqrt(E), a bool mask keeps where
 * true, a float mask is added, causal hides key j > query i, a row with no key left is 0, and
 * no keys at all (S = 0) gives zeros.
 */
final class AttentionOps {
    private AttentionOps() {}

    /** attention.cu's KILN_ATTENTION_THREADS: its reductions assume exactly this block size. */
    private static final int THREADS = 128;
    private static final int MAX_BLOCKS = 65535;

    /**
     * One call as the kernels see it: KAttentionDims (heads, L, S, E, Ev, causal, mask kind,
     * mask offset, row and column strides), the scale, contiguous q, k, v, and the mask's batch
     * layout (KShape, KStrides).
     */
    private record Problem(int[] dims, double scale, Ptr q, Ptr k, Ptr v, Ptr mask, int[] maskShape, int[] maskStrides) {
        int heads() { return dims[0]; }

        int l() { return dims[1]; }

        int s() { return dims[2]; }
    }

    private static Problem problem(CudaExecutor ex, Strided q, Strided k, Strided v, Strided mask, Attrs a, DType t, OpScope s) {
        int r = q.rank();
        int[] batch = Arrays.copyOf(q.shape(), r - 2);
        int heads = 1;
        for (int d : batch) heads *= d;
        int l = q.shape()[r - 2], e = q.shape()[r - 1], keys = k.shape()[r - 2], ev = v.shape()[r - 1];
        Double given = a.getOptionalFloat("scale");
        double scale = given != null ? given : 1.0 / Math.sqrt(e);
        int causal = a.getBool("causal") ? 1 : 0;
        Ptr qp = new Ptr(ex.contiguous(q, t, s)), kp = new Ptr(ex.contiguous(k, t, s)), vp = new Ptr(ex.contiguous(v, t, s));
        if (mask == null) {
            return new Problem(new int[] {heads, l, keys, e, ev, causal, 0, 0, 0, 0}, scale, qp, kp, vp, new Ptr(0),
                    KernelLayouts.shape(new int[0]), KernelLayouts.strides(new int[0]));
        }
        // the mask broadcast to the scores [batch..., L, S]: stride 0 where it repeats
        int[] scores = Arrays.copyOf(batch, r);
        scores[r - 2] = l;
        scores[r - 1] = keys;
        boolean bool = mask.dtype() == DType.BOOL;
        View m = ex.view(mask, scores, bool ? DType.BOOL : t, s);
        int[] st = m.strides();
        return new Problem(new int[] {heads, l, keys, e, ev, causal, bool ? 1 : 2, m.offset(), st[r - 2], st[r - 1]}, scale, qp, kp, vp,
                m.ptr(), KernelLayouts.shape(batch), KernelLayouts.strides(Arrays.copyOf(st, r - 2)));
    }

    private static int blocks(long rows) { return (int) Math.max(1, Math.min(rows, MAX_BLOCKS)); }

    private static String kernel(String name, DType t) { return name + "_" + CudaExecutor.suffix(t); }

    /**
     * The problem of one of the three ops (its mask, if any, at input {@code maskAt}), or null
     * after filling {@code result} with zeros when there are no keys or no queries (as the CPU
     * kernels give).
     */
    private static Problem nonEmpty(CudaExecutor ex, Op op, Strided[] in, int maskAt, Attrs a, Strided result, long dst, OpScope s) {
        DType t = result.dtype();
        ex.requireFloat(op, t);
        Problem p = problem(ex, in[0], in[1], in[2], in.length > maskAt ? in[maskAt] : null, a, t, s);
        if (p.s() != 0 && p.l() != 0) return p;
        ex.fill(t, result.numel(), 0, dst);
        return null;
    }

    /** attention(q, k, v[, mask]) into dst. */
    static void forward(CudaExecutor ex, Strided[] in, Attrs a, Strided out, long dst, OpScope s) {
        Problem p = nonEmpty(ex, Op.SCALED_DOT_PRODUCT_ATTENTION, in, 3, a, out, dst, s);
        if (p != null) launchForward(ex, p, out.dtype(), dst);
    }

    private static void launchForward(CudaExecutor ex, Problem p, DType t, long dst) {
        ex.gpu().launch(ex.gpu().kernel(CudaKernelSources.ATTENTION, kernel("kiln_attention", t)), blocks((long) p.heads() * p.l()), 1, 1,
                THREADS, p.dims, p.scale, p.q, p.k, p.v, p.mask, p.maskShape, p.maskStrides, new Ptr(dst));
    }

    /** The gradient of attention(q, k, v[, mask]) for attr wrt, from q, k, v, out, gradOut[, mask]. */
    static void backward(CudaExecutor ex, Strided[] in, Attrs a, Strided grad, long dst, OpScope s) {
        Problem p = nonEmpty(ex, Op.SCALED_DOT_PRODUCT_ATTENTION_GRAD, in, 5, a, grad, dst, s);
        if (p == null) return;
        DType t = grad.dtype();
        String wrt = a.getString("wrt");
        gradients(ex, p, t, new Ptr(ex.contiguous(in[3], t, s)), new Ptr(ex.contiguous(in[4], t, s)),
                wrt.equals("q") ? dst : 0, wrt.equals("k") ? dst : 0, wrt.equals("v") ? dst : 0, s);
    }

    /**
     * A self-attention's dq, dk and dv stacked into dst ([3, ...], q, k and v of one shape), from
     * q, k, v, gradOut[, mask]: the output is recomputed into a temporary (the per-row dot(dO, O)
     * needs it), then the three gradient kernels write their parts.
     */
    static void backwardAll(CudaExecutor ex, Strided[] in, Attrs a, Strided grad, long dst, OpScope s) {
        Problem p = nonEmpty(ex, Op.SCALED_DOT_PRODUCT_ATTENTION_BACKWARD, in, 4, a, grad, dst, s);
        if (p == null) return;
        DType t = grad.dtype();
        long partBytes = (long) (grad.numel() / 3) * CudaBackend.deviceItemSize(t);
        long out = ex.temp(s, partBytes);
        launchForward(ex, p, t, out);
        gradients(ex, p, t, new Ptr(out), new Ptr(ex.contiguous(in[3], t, s)), dst, dst + partBytes, dst + 2 * partBytes, s);
    }

    /** The row statistics pass, then each gradient whose destination is not 0. */
    private static void gradients(CudaExecutor ex, Problem p, DType t, Ptr out, Ptr gout, long dq, long dk, long dv, OpScope s) {
        long rows = (long) p.heads() * p.l();
        Ptr lse = new Ptr(ex.temp(s, 8 * rows)), dot = new Ptr(ex.temp(s, 8 * rows));
        CudaBackend gpu = ex.gpu();
        gpu.launch(gpu.kernel(CudaKernelSources.ATTENTION, kernel("kiln_attention_stats", t)), blocks(rows), 1, 1, THREADS,
                p.dims, p.scale, p.q, p.k, p.v, p.mask, p.maskShape, p.maskStrides, out, gout, lse, dot);
        if (dq != 0) {
            gpu.launch(gpu.kernel(CudaKernelSources.ATTENTION, kernel("kiln_attention_grad_q", t)), blocks(rows), 1, 1, THREADS,
                    p.dims, p.scale, p.q, p.k, p.v, p.mask, p.maskShape, p.maskStrides, gout, lse, dot, new Ptr(dq));
        }
        for (int forK = 1; forK >= 0; forK--) {
            long dst = forK == 1 ? dk : dv;
            if (dst == 0) continue;
            gpu.launch(gpu.kernel(CudaKernelSources.ATTENTION, kernel("kiln_attention_grad_kv", t)), blocks((long) p.heads() * p.s()), 1, 1,
                    THREADS, forK, p.dims, p.scale, p.q, p.k, p.v, p.mask, p.maskShape, p.maskStrides, gout, lse, dot, new Ptr(dst));
        }
    }
}
