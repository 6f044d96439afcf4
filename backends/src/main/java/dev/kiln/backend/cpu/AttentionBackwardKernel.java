package dev.kiln.backend.cpu;

import static dev.kiln.backend.cpu.AttentionProblem.BLOCK_Q;
import static dev.kiln.backend.cpu.AttentionProblem.dotRows;
import static dev.kiln.backend.cpu.AttentionProblem.product;
import static dev.kiln.backend.cpu.AttentionProblem.fill;
import static dev.kiln.backend.cpu.AttentionProblem.scaleRows;

import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import java.util.Map;

/**
 * scaled_dot_product_attention_backward: dq, dk and dv of a self-attention (q, k, v of one shape)
 * in one pass, stacked [3, ...]. Per head, each block of {@link AttentionProblem#BLOCK_Q} queries
 * recomputes its score rows over the keys it sees ([BLOCK_Q x S], in cache), takes their exact
 * softmax P, and from dP = dO v^T and dS = P * (dP - rowsum(P * dP)) (softmax's gradient, the row
 * formula of softmax_backward) adds P^T dO to dv, dS^T q to dk and writes dS k into dq: five
 * products per block, against eleven for the three separate gradient ops, and no [L, S] buffer.
 * D = rowsum(P * dP) equals dot(dO, O) but comes from the recomputed P, so the op needs no output.
 *
 * <p>dk and dv accumulate over a head's query blocks, so a task is a head: the blocks go in order
 * and the bits do not depend on the thread count. Beyond {@link AttentionProblem#ROW_KEYS_MAX}
 * keys a block's rows would leave the cache: the output is recomputed and the tiled gradient
 * passes of {@link AttentionKernels} write the three parts.
 */
final class AttentionBackwardKernel {
    private AttentionBackwardKernel() {}

    static void register(Map<Op, CpuKernel> k) {
        k.put(Op.SCALED_DOT_PRODUCT_ATTENTION_BACKWARD, AttentionBackwardKernel::backward);
    }

    /** (q, k, v, gradOut[, mask]) -> [3, ...q's shape]. */
    private static Strided backward(Strided[] in, Attrs a, TensorType outT) {
        AttentionProblem p = new AttentionProblem(in.length > 4 ? new Strided[] {in[0], in[1], in[2], in[4]} : new Strided[] {in[0], in[1], in[2]}, 3, a);
        AttentionProblem.Heads go = AttentionProblem.Heads.of(in[3], p.heads);
        Strided grad = Strided.allocate(outT.dtype(), outT.concreteShape());
        Object g = grad.storage().array();
        if (p.s == 0 || p.l == 0) return grad; // no keys (or queries): every gradient is 0
        int part = p.heads * p.l * p.e; // one gradient's elements: q, k and v share a shape
        if (!p.wholeRows()) {
            Object o = RowOps.allocate(g, p.heads * p.l * p.ev);
            AttentionKernels.forwardInto(p, o);
            AttentionKernels.RowStats stats = AttentionKernels.rowStats(p, o, go);
            AttentionKernels.gradInto(p, stats, go, "q", g, 0);
            AttentionKernels.gradInto(p, stats, go, "k", g, part);
            AttentionKernels.gradInto(p, stats, go, "v", g, 2 * part);
            return grad;
        }
        BatchSplit.run(p.heads, 10L * p.l * p.s * p.e, (chunk, from, to) -> {
            int rows = Math.min(BLOCK_Q, p.l); // a decoding step's one query needs one row, not a block's
            Object sc = RowOps.allocate(g, rows * p.s), dp = RowOps.allocate(g, rows * p.s);
            boolean t = p.transposesKeys();
            Object[] scratch = {sc, dp, t ? RowOps.allocate(g, p.e * p.s) : null, t ? RowOps.allocate(g, p.e * p.s) : null};
            float[] dot = new float[1];
            for (int h = from; h < to; h++) head(p, h, go, g, part, scratch, dot);
        });
        return grad;
    }

    /**
     * Head h's dq, dk and dv into g at 0, part and 2 * part (each [heads, L, E]). Scratch: a
     * block's score rows and their gradient, then k and v transposed ([E x S] each; null when
     * there are too few queries to pay for it, and the GEMM reads them in place).
     */
    private static void head(AttentionProblem p, int h, AttentionProblem.Heads go, Object g, int part, Object[] scratch, float[] dot) {
        Object sc = scratch[0], dp = scratch[1], kt = scratch[2], vt = scratch[3];
        int e = p.e, q0 = h * p.l * e, k0 = h * p.s * e, dk0 = part + k0, dv0 = 2 * part + k0;
        RowOps.zero(g, dk0, p.s * e);
        RowOps.zero(g, dv0, p.s * e);
        if (kt != null) {
            p.transposed(p.k, h, e, kt);
            p.transposed(p.v, h, e, vt);
        }
        boolean nanRow = false;
        for (int i0 = 0; i0 < p.l; i0 += BLOCK_Q) {
            int br = Math.min(BLOCK_Q, p.l - i0), nk = p.keysFor(i0, br), qi = q0 + i0 * e, gi = go.row(h, i0);
            nanRow |= p.probabilities(h, i0, br, nk, sc, kt);
            if (vt != null) product(br, nk, e, go.data(), gi, go.rowStride(), 1, vt, 0, p.s, dp, 0, nk, false); // dP = dO v^T
            else dotRows(br, nk, e, go.data(), gi, go.rowStride(), p.v.data(), p.v.row(h, 0), p.v.rowStride(), dp);
            product(nk, e, br, sc, 0, 1, nk, go.data(), gi, go.rowStride(), g, dv0, e, true); // dv += P^T dO
            for (int r = 0; r < br; r++) scoreGradientRow(dp, sc, r * nk, nk, dot); // dS = P * (dP - D), into dp
            product(nk, e, br, dp, 0, 1, nk, p.q.data(), p.q.row(h, i0), p.q.rowStride(), g, dk0, e, true); // dk += dS^T q
            product(br, e, nk, dp, 0, nk, 1, p.k.data(), p.k.row(h, 0), p.k.rowStride(), g, qi, e, false); // dq = dS k
        }
        scaleRows(g, q0, p.l * e, p.scale);
        scaleRows(g, dk0, p.s * e, p.scale);
        // A row with a NaN score has a NaN softmax at every key, so P^T dO and dS^T q are NaN at
        // every key of the head, as PyTorch computes them; the causal blocks skip keys a row
        // cannot see, so say it for all of them. (A row that sees no key has P = 0: it adds nothing.)
        if (nanRow) {
            fill(g, dk0, p.s * e, Double.NaN);
            fill(g, dv0, p.s * e, Double.NaN);
        }
    }

    /** dp's row at off becomes P * (dP - dot(dP, P)), P the row of sc at off. */
    private static void scoreGradientRow(Object dp, Object sc, int off, int n, float[] dot) {
        if (dp instanceof float[] f) ReductionKernels.softmaxBackwardRow(f, off, (float[]) sc, off, f, off, n, dot);
        else ReductionKernels.softmaxBackwardRow((double[]) dp, off, (double[]) sc, off, (double[]) dp, off, n);
    }
}
