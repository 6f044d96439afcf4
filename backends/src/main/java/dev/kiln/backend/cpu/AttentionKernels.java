package dev.kiln.backend.cpu;

import static dev.kiln.backend.cpu.AttentionProblem.BLOCK_K;
import static dev.kiln.backend.cpu.AttentionProblem.BLOCK_Q;
import static dev.kiln.backend.cpu.AttentionProblem.addProduct;
import static dev.kiln.backend.cpu.AttentionProblem.dotRows;
import static dev.kiln.backend.cpu.AttentionProblem.fill;
import static dev.kiln.backend.cpu.AttentionProblem.scaleRows;

import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.vector.FloatRows;
import dev.kiln.backend.cpu.vector.VectorSupport;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import java.util.Map;

/**
 * Scaled dot-product attention, fused: for each head and block of {@link AttentionProblem#BLOCK_Q}
 * queries the scores are computed in tiles (two GEMMs per tile) with an online softmax (a running
 * row maximum and sum rescale what was accumulated), so memory is a few tiles per thread, never
 * the L x S score matrix; up to {@link AttentionProblem#ROW_KEYS_MAX} keys a block takes its
 * rows whole instead (one exact softmax, then P v). The gradient ops
 * recompute the tiles: a first pass finds each query row's log-sum-exp and dot(dO, O), then dq
 * tiles over keys, or dk/dv tiles over queries. Work is split over (head, block) tasks whose
 * bounds depend only on the sizes, so the results are the same bits on any number of threads.
 * (The one-pass gradient of all three is {@link AttentionBackwardKernel}.)
 */
final class AttentionKernels {
    private AttentionKernels() {}

    private static final FloatRows ROWS = VectorSupport.floatRows();

    static void register(Map<Op, CpuKernel> k) {
        k.put(Op.SCALED_DOT_PRODUCT_ATTENTION, AttentionKernels::forward);
        k.put(Op.SCALED_DOT_PRODUCT_ATTENTION_GRAD, AttentionKernels::backward);
    }

    private static Strided forward(Strided[] in, Attrs a, TensorType outT) {
        AttentionProblem p = new AttentionProblem(in, 3, a);
        Strided out = Strided.allocate(outT.dtype(), outT.concreteShape());
        forwardInto(p, out.storage().array());
        return out;
    }

    /** The attention's output, [heads, L, Ev] contiguous, into o (zeros when there are no keys or queries). */
    static void forwardInto(AttentionProblem p, Object o) {
        if (p.s == 0 || p.l == 0) return; // no keys: a softmax over nothing times nothing is 0, as PyTorch's
        int blocks = p.blocksQ();
        if (p.wholeRows()) { // each block's rows whole: their softmax P, then P v straight into o
            BatchSplit.run(p.heads * blocks, (long) BLOCK_Q * p.s * (p.e + p.ev), (chunk, from, to) -> {
                Object sc = RowOps.allocate(o, Math.min(BLOCK_Q, p.l) * p.s), kt = p.transposesKeys() ? RowOps.allocate(o, p.e * p.s) : null;
                int transposedHead = -1;
                for (int t = from; t < to; t++) {
                    int h = t / blocks, i0 = (t % blocks) * BLOCK_Q, br = Math.min(BLOCK_Q, p.l - i0), nk = p.keysFor(i0, br);
                    if (kt != null && h != transposedHead) p.transposed(p.k, transposedHead = h, p.e, kt);
                    p.probabilities(h, i0, br, nk, sc, kt);
                    AttentionProblem.product(br, p.ev, nk, sc, 0, nk, 1, p.v.data(), p.v.row(h, 0), p.v.rowStride(), o, (h * p.l + i0) * p.ev, p.ev, false);
                }
            });
            return;
        }
        BatchSplit.run(p.heads * blocks, (long) BLOCK_Q * p.s * (p.e + p.ev), (chunk, from, to) -> {
            Object sc = RowOps.allocate(o, BLOCK_Q * BLOCK_K), acc = RowOps.allocate(o, BLOCK_Q * p.ev);
            double[] max = new double[BLOCK_Q], sum = new double[BLOCK_Q];
            for (int t = from; t < to; t++) {
                int h = t / blocks, i0 = (t % blocks) * BLOCK_Q, br = Math.min(BLOCK_Q, p.l - i0);
                java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
                java.util.Arrays.fill(sum, 0);
                RowOps.zero(acc, 0, br * p.ev);
                for (int kb = 0, nk = p.keyBlocksFor(i0, br); kb < nk; kb++) {
                    int j0 = kb * BLOCK_K, bc = Math.min(BLOCK_K, p.s - j0);
                    p.scores(h, i0, br, j0, bc, sc, null);
                    for (int r = 0; r < br; r++) onlineSoftmaxRow(sc, r * bc, bc, max, sum, r, acc, r * p.ev, p.ev);
                    addProduct(br, p.ev, bc, sc, 0, bc, 1, p.v.data(), p.v.row(h, j0), p.v.rowStride(), acc, 0);
                }
                int oo = (h * p.l + i0) * p.ev;
                for (int r = 0; r < br; r++) {
                    // a row with no key left is 0, as PyTorch's safe softmax (2.5 on) gives; a NaN score's row stays NaN
                    double inv = max[r] == Double.NEGATIVE_INFINITY ? 0 : 1.0 / sum[r];
                    if (acc instanceof float[] f) for (int c = 0; c < p.ev; c++) ((float[]) o)[oo + r * p.ev + c] = (float) (f[r * p.ev + c] * inv);
                    else for (int c = 0; c < p.ev; c++) ((double[]) o)[oo + r * p.ev + c] = ((double[]) acc)[r * p.ev + c] * inv;
                }
            }
        });
    }

    /**
     * One row of one tile: the new running maximum, the tile's scores replaced by exp(x - max), the
     * running sum and the accumulated output rescaled by exp(old max - new max).
     */
    private static void onlineSoftmaxRow(Object sc, int off, int n, double[] max, double[] sum, int r, Object acc, int accOff, int accLen) {
        double tileMax = Double.NEGATIVE_INFINITY;
        if (sc instanceof float[] f) {
            for (int c = 0; c < n; c++) tileMax = Math.max(tileMax, f[off + c]);
        } else {
            double[] d = (double[]) sc;
            for (int c = 0; c < n; c++) tileMax = Math.max(tileMax, d[off + c]);
        }
        double m = Math.max(max[r], tileMax);
        if (m == Double.NEGATIVE_INFINITY) { // every key so far hidden: this tile adds nothing
            RowOps.zero(sc, off, n);
            return;
        }
        double alpha = max[r] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(max[r] - m);
        max[r] = m;
        double tileSum = expShifted(sc, off, n, m);
        sum[r] = sum[r] * alpha + tileSum;
        if (alpha != 1 && acc != null) {
            if (acc instanceof float[] f) for (int c = 0; c < accLen; c++) f[accOff + c] *= (float) alpha;
            else for (int c = 0; c < accLen; c++) ((double[]) acc)[accOff + c] *= alpha;
        }
    }

    /** sc[off .. off+n) = exp(sc - shift) in place; returns their sum. exp(-inf - shift) is 0; a shift of -inf gives NaN. */
    private static double expShifted(Object sc, int off, int n, double shift) {
        if (sc instanceof float[] f) {
            float fs = (float) shift;
            for (int c = 0; c < n; c++) f[off + c] -= fs;
            ROWS.unary(FloatRows.Unary.EXP, f, off, f, off, n);
            return ROWS.sum(f, off, n);
        }
        double[] d = (double[]) sc;
        double total = 0;
        for (int c = 0; c < n; c++) {
            d[off + c] = Math.exp(d[off + c] - shift);
            total += d[off + c];
        }
        return total;
    }

    /** grad(q, k, v, out, gradOut[, mask]) with respect to attr "wrt". */
    private static Strided backward(Strided[] in, Attrs a, TensorType outT) {
        AttentionProblem p = new AttentionProblem(in.length > 5 ? new Strided[] {in[0], in[1], in[2], in[5]} : new Strided[] {in[0], in[1], in[2]}, 3, a);
        Object o = Copy.contiguousOf(in[3], in[3].dtype()).storage().array();
        AttentionProblem.Heads go = AttentionProblem.Heads.of(in[4], p.heads);
        Strided grad = Strided.allocate(outT.dtype(), outT.concreteShape());
        if (p.s == 0 || p.l == 0) return grad;
        gradInto(p, rowStats(p, o, go), go, a.getString("wrt"), grad.storage().array(), 0);
        return grad;
    }

    /** Per query row (heads * L of them): the log-sum-exp of its scores, and D = dot(dO, O). */
    record RowStats(double[] lse, double[] dot) {}

    /** The first pass of the tiled gradients: each query row's {@link RowStats}, from the output o and its gradient go. */
    static RowStats rowStats(AttentionProblem p, Object o, AttentionProblem.Heads go) {
        double[] lse = new double[p.heads * p.l], dot = new double[p.heads * p.l];
        int blocks = p.blocksQ();
        BatchSplit.run(p.heads * blocks, (long) BLOCK_Q * p.s * p.e, (chunk, from, to) -> {
            Object sc = RowOps.allocate(o, BLOCK_Q * BLOCK_K);
            double[] max = new double[BLOCK_Q], sum = new double[BLOCK_Q];
            for (int t = from; t < to; t++) {
                int h = t / blocks, i0 = (t % blocks) * BLOCK_Q, br = Math.min(BLOCK_Q, p.l - i0);
                java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
                java.util.Arrays.fill(sum, 0);
                for (int kb = 0, nk = p.keyBlocksFor(i0, br); kb < nk; kb++) {
                    int j0 = kb * BLOCK_K, bc = Math.min(BLOCK_K, p.s - j0);
                    p.scores(h, i0, br, j0, bc, sc, null);
                    for (int r = 0; r < br; r++) onlineSoftmaxRow(sc, r * bc, bc, max, sum, r, null, 0, 0);
                }
                for (int r = 0; r < br; r++) {
                    int row = h * p.l + i0 + r;
                    lse[row] = max[r] + Math.log(sum[r]); // -inf for a row with no key (its P is 0), NaN for a NaN score
                    dot[row] = dotRow(go.data(), go.row(h, i0 + r), o, row * p.ev, p.ev);
                }
            }
        });
        return new RowStats(lse, dot);
    }

    /**
     * The tiled gradient with respect to q, k or v ({@code wrt}) into g at {@code base}, laid out as
     * that input ([heads, L or S, E or Ev] contiguous). Needs keys and queries (S, L > 0).
     */
    static void gradInto(AttentionProblem p, RowStats stats, AttentionProblem.Heads go, String wrt, Object g, int base) {
        double[] lse = stats.lse(), dot = stats.dot();
        int blocks = p.blocksQ();
        if (wrt.equals("q")) {
            BatchSplit.run(p.heads * blocks, (long) BLOCK_Q * p.s * (2 * p.e + p.ev), (chunk, from, to) -> {
                Object sc = RowOps.allocate(g, BLOCK_Q * BLOCK_K), dp = RowOps.allocate(g, BLOCK_Q * BLOCK_K);
                for (int t = from; t < to; t++) {
                    int h = t / blocks, i0 = (t % blocks) * BLOCK_Q, br = Math.min(BLOCK_Q, p.l - i0);
                    int g0 = base + (h * p.l + i0) * p.e;
                    RowOps.zero(g, g0, br * p.e);
                    for (int kb = 0, nk = p.keyBlocksFor(i0, br); kb < nk; kb++) {
                        int j0 = kb * BLOCK_K, bc = Math.min(BLOCK_K, p.s - j0);
                        scoreGradient(p, h, i0, br, j0, bc, sc, dp, go, lse, dot);
                        // dq += dS @ k
                        addProduct(br, p.e, bc, sc, 0, bc, 1, p.k.data(), p.k.row(h, j0), p.k.rowStride(), g, g0);
                    }
                    scaleRows(g, g0, br * p.e, p.scale);
                }
            });
            return;
        }
        boolean forK = wrt.equals("k");
        int width = forK ? p.e : p.ev, kBlocks = p.blocksK();
        boolean[] nanHead = headsWithANaNRow(p, lse);
        BatchSplit.run(p.heads * kBlocks, (long) BLOCK_K * p.l * (2 * p.e + p.ev), (chunk, from, to) -> {
            Object sc = RowOps.allocate(g, BLOCK_Q * BLOCK_K), dp = RowOps.allocate(g, BLOCK_Q * BLOCK_K);
            for (int t = from; t < to; t++) {
                int h = t / kBlocks, j0 = (t % kBlocks) * BLOCK_K, bc = Math.min(BLOCK_K, p.s - j0);
                int g0 = base + (h * p.s + j0) * width;
                if (nanHead[h]) { // a row's probabilities are NaN at every key, and so is every key's gradient
                    fill(g, g0, bc * width, Double.NaN);
                    continue;
                }
                RowOps.zero(g, g0, bc * width);
                for (int qb = p.firstQueryBlockFor(j0); qb < blocks; qb++) {
                    int i0 = qb * BLOCK_Q, br = Math.min(BLOCK_Q, p.l - i0);
                    if (forK) {
                        scoreGradient(p, h, i0, br, j0, bc, sc, dp, go, lse, dot);
                        // dk += dS^T @ q
                        addProduct(bc, p.e, br, sc, 0, 1, bc, p.q.data(), p.q.row(h, i0), p.q.rowStride(), g, g0);
                    } else {
                        p.scores(h, i0, br, j0, bc, sc, null);
                        for (int r = 0; r < br; r++) probabilitiesFromLse(sc, r * bc, bc, lse[h * p.l + i0 + r]);
                        // dv += P^T @ dO
                        addProduct(bc, p.ev, br, sc, 0, 1, bc, go.data(), go.row(h, i0), go.rowStride(), g, g0);
                    }
                }
                if (forK) scaleRows(g, g0, bc * width, p.scale);
            }
        });
    }

    /**
     * Heads with a query row that has a NaN score (its log-sum-exp NaN). That row's softmax is NaN
     * at every key, so, as PyTorch computes it (P^T dO, dS^T q), dk and dv are NaN at every key of
     * the head. The causal loops skip the query blocks a key is hidden from, so without this rule
     * a key's gradient would depend on which blocks were skipped. (A row that sees no key has
     * P = 0 and adds nothing.)
     */
    private static boolean[] headsWithANaNRow(AttentionProblem p, double[] lse) {
        boolean[] nan = new boolean[p.heads];
        for (int row = 0; row < lse.length; row++) if (Double.isNaN(lse[row])) nan[row / p.l] = true;
        return nan;
    }

    /** A tile row's probabilities exp(scores - lse) in place; 0 for a row that sees no key (lse -inf). */
    private static void probabilitiesFromLse(Object sc, int off, int n, double lse) {
        if (lse == Double.NEGATIVE_INFINITY) fill(sc, off, n, 0);
        else expShifted(sc, off, n, lse);
    }

    /** The tile's P = exp(scores - lse) into sc and dS = P * (dO v^T - D) over it (in sc); dp is scratch. */
    private static void scoreGradient(AttentionProblem p, int h, int i0, int br, int j0, int bc, Object sc, Object dp, AttentionProblem.Heads go, double[] lse, double[] dot) {
        p.scores(h, i0, br, j0, bc, sc, null);
        for (int r = 0; r < br; r++) probabilitiesFromLse(sc, r * bc, bc, lse[h * p.l + i0 + r]);
        dotRows(br, bc, p.ev, go.data(), go.row(h, i0), go.rowStride(), p.v.data(), p.v.row(h, j0), p.v.rowStride(), dp);
        for (int r = 0; r < br; r++) {
            double d = dot[h * p.l + i0 + r];
            if (sc instanceof float[] f) {
                float[] x = (float[]) dp;
                float fd = (float) d;
                for (int c = 0; c < bc; c++) f[r * bc + c] *= x[r * bc + c] - fd;
            } else {
                double[] s = (double[]) sc, x = (double[]) dp;
                for (int c = 0; c < bc; c++) s[r * bc + c] *= x[r * bc + c] - d;
            }
        }
    }

    private static double dotRow(Object a, int ao, Object b, int bo, int n) {
        double s = 0;
        if (a instanceof float[] x) {
            float[] y = (float[]) b;
            for (int i = 0; i < n; i++) s += (double) x[ao + i] * y[bo + i];
        } else {
            double[] x = (double[]) a, y = (double[]) b;
            for (int i = 0; i < n; i++) s += x[ao + i] * y[bo + i];
        }
        return s;
    }
}
