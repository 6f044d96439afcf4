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
 * <p>dk and dv accumulate over a head's query blocks, so a task is a head, its blocks in order; with
 * fewer heads than {@link BatchSplit}'s chunks, a head's blocks are cut into groups whose partial
 * dk and dv are added in group order ({@link #groupsPerHead}). Either way the bits do not depend
 * on the thread count. Beyond {@link AttentionProblem#ROW_KEYS_MAX}
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
        int blocks = p.blocksQ(), groups = groupsPerHead(p.heads, blocks), tasks = p.heads * groups, head = p.s * p.e;
        // group 0 sums a head's dk and dv in place; the other groups into partial sums (none with
        // one group), added in group order afterwards
        Object pk = groups == 1 ? null : RowOps.allocate(g, p.heads * (groups - 1) * head), pv = groups == 1 ? null : RowOps.allocate(g, p.heads * (groups - 1) * head);
        boolean[] nanRow = new boolean[tasks];
        BatchSplit.run(tasks, 10L * p.l * p.s * p.e / groups, (chunk, from, to) -> {
            int rows = Math.min(BLOCK_Q, p.l); // a decoding step's one query needs one row, not a block's
            Object sc = RowOps.allocate(g, rows * p.s), dp = RowOps.allocate(g, rows * p.s);
            boolean t = p.transposesKeys();
            Object[] scratch = {sc, dp, t ? RowOps.allocate(g, p.e * p.s) : null, t ? RowOps.allocate(g, p.e * p.s) : null};
            float[] dot = new float[1];
            for (int task = from; task < to; task++) {
                int h = task / groups, grp = task % groups, partial = partialOffset(h, grp, groups, head);
                nanRow[task] = queryBlocks(p, h, blocks * grp / groups, blocks * (grp + 1) / groups, go, g, grp == 0 ? g : pk,
                        grp == 0 ? part + h * head : partial, grp == 0 ? g : pv, grp == 0 ? 2 * part + h * head : partial, scratch, dot);
                if (groups == 1) finishHead(p, g, part + h * head, 2 * part + h * head, nanRow[task]); // in the task, in parallel
            }
        });
        for (int h = 0; groups > 1 && h < p.heads; h++) {
            int dk0 = part + h * head, dv0 = 2 * part + h * head;
            boolean nan = false;
            for (int grp = 0; grp < groups; grp++) nan |= nanRow[h * groups + grp];
            for (int grp = 1; grp < groups; grp++) {
                RowOps.add(pk, partialOffset(h, grp, groups, head), g, dk0, 1, head);
                RowOps.add(pv, partialOffset(h, grp, groups, head), g, dv0, 1, head);
            }
            finishHead(p, g, dk0, dv0, nan);
        }
        return grad;
    }

    /**
     * A head's summed dk scaled; NaN in dk and dv at every key when a row had a NaN score: its
     * softmax is NaN at every key, so P^T dO and dS^T q are NaN at every key of the head, as
     * PyTorch computes them, and the causal blocks skip keys a row cannot see, so say it for all
     * of them. (A row that sees no key has P = 0: it adds nothing.)
     */
    private static void finishHead(AttentionProblem p, Object g, int dk0, int dv0, boolean nanRow) {
        int head = p.s * p.e;
        scaleRows(g, dk0, head, p.scale);
        if (nanRow) {
            fill(g, dk0, head, Double.NaN);
            fill(g, dv0, head, Double.NaN);
        }
    }

    /**
     * How many tasks share a head's query blocks: 1 when there are enough heads to keep
     * {@link BatchSplit}'s chunks busy, else up to {@link #MAX_GROUPS} groups of blocks per head (a
     * single long sequence's backward would otherwise run on one thread). Each group after the
     * first sums its own dk and dv, added in group order after, so the count depends only on the
     * sizes and the bits do not depend on the thread count.
     */
    static int groupsPerHead(int heads, int blocks) {
        return heads >= BatchSplit.MAX_CHUNKS ? 1 : Math.max(1, Math.min(Math.min(blocks, MAX_GROUPS), BatchSplit.MAX_CHUNKS / heads));
    }

    /** At most this many groups per head: each one after the first holds a partial dk and dv ([S, E] each). */
    static final int MAX_GROUPS = 2;

    /**
     * Query blocks [b0, b1) of head h: their rows of dq into g (at 0, [heads, L, E], scaled), and
     * their sums of dk (unscaled) and dv into dkArr at dk0 and dvArr at dv0 ([S, E] each, zeroed
     * here). Scratch: a block's score rows and their gradient, then k and v transposed ([E x S]
     * each; null when there are too few queries to pay for it, and the GEMM reads them in place).
     * True when a row came out NaN (a NaN score).
     */
    private static boolean queryBlocks(AttentionProblem p, int h, int b0, int b1, AttentionProblem.Heads go, Object g, Object dkArr, int dk0,
                                       Object dvArr, int dv0, Object[] scratch, float[] dot) {
        Object sc = scratch[0], dp = scratch[1], kt = scratch[2], vt = scratch[3];
        int e = p.e, q0 = h * p.l * e;
        RowOps.zero(dkArr, dk0, p.s * e);
        RowOps.zero(dvArr, dv0, p.s * e);
        if (b0 >= b1) return false;
        if (kt != null) {
            p.transposed(p.k, h, e, kt);
            p.transposed(p.v, h, e, vt);
        }
        boolean nanRow = false;
        for (int i0 = b0 * BLOCK_Q; i0 < Math.min(p.l, b1 * BLOCK_Q); i0 += BLOCK_Q) {
            int br = Math.min(BLOCK_Q, p.l - i0), nk = p.keysFor(i0, br), qi = q0 + i0 * e, gi = go.row(h, i0);
            nanRow |= p.probabilities(h, i0, br, nk, sc, kt);
            if (vt != null) product(br, nk, e, go.data(), gi, go.rowStride(), 1, vt, 0, p.s, dp, 0, nk, false); // dP = dO v^T
            else dotRows(br, nk, e, go.data(), gi, go.rowStride(), p.v.data(), p.v.row(h, 0), p.v.rowStride(), dp);
            product(nk, e, br, sc, 0, 1, nk, go.data(), gi, go.rowStride(), dvArr, dv0, e, true); // dv += P^T dO
            for (int r = 0; r < br; r++) scoreGradientRow(dp, sc, r * nk, nk, dot); // dS = P * (dP - D), into dp
            product(nk, e, br, dp, 0, 1, nk, p.q.data(), p.q.row(h, i0), p.q.rowStride(), dkArr, dk0, e, true); // dk += dS^T q
            product(br, e, nk, dp, 0, nk, 1, p.k.data(), p.k.row(h, 0), p.k.rowStride(), g, qi, e, false); // dq = dS k
            scaleRows(g, qi, br * e, p.scale);
        }
        return nanRow;
    }

    /** Where group grp (>= 1) of head h keeps its partial dk (and, in the other buffer, dv): heads * (groups - 1) of them. */
    private static int partialOffset(int h, int grp, int groups, int head) { return (h * (groups - 1) + grp - 1) * head; }

    /** dp's row at off becomes P * (dP - dot(dP, P)), P the row of sc at off. */
    private static void scoreGradientRow(Object dp, Object sc, int off, int n, float[] dot) {
        if (dp instanceof float[] f) ReductionKernels.softmaxBackwardRow(f, off, (float[]) sc, off, f, off, n, dot);
        else ReductionKernels.softmaxBackwardRow((double[]) dp, off, (double[]) sc, off, (double[]) dp, off, n);
    }
}
