package dev.kiln.backend.cpu;

import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.vector.FloatRows;
import dev.kiln.backend.cpu.vector.VectorSupport;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import java.util.Map;

/**
 * Scaled dot-product attention, fused: for each head and block of {@link #BLOCK_Q} queries the
 * scores are computed {@link #BLOCK_K} keys at a time (two GEMMs per tile) with an online softmax
 * (a running row maximum and sum rescale what was accumulated), so memory is a few tiles per
 * thread, never the L x S score matrix. The gradient ops recompute the tiles: a first pass finds
 * each query row's log-sum-exp and dot(dO, O), then dq tiles over keys, or dk/dv tiles over
 * queries. Work is split over (head, block) tasks whose bounds depend only on the sizes, so the
 * results are the same bits on any number of threads.
 */
final class AttentionKernels {
    private AttentionKernels() {}

    static final int BLOCK_Q = 64, BLOCK_K = 64;
    private static final FloatRows ROWS = VectorSupport.floatRows();

    static void register(Map<Op, CpuKernel> k) {
        k.put(Op.SCALED_DOT_PRODUCT_ATTENTION, AttentionKernels::forward);
        k.put(Op.SCALED_DOT_PRODUCT_ATTENTION_GRAD, AttentionKernels::backward);
    }

    /** The problem: {@code heads} independent [L, E] x [S, E] x [S, Ev] attentions over contiguous data. */
    private static final class Problem {
        final int heads, l, s, e, ev;
        final double scale;
        final boolean causal;
        final Object q, k, v; // float[] or double[], contiguous, offset 0
        final Object mask; // boolean[], float[], double[] or null
        final int maskOffset, maskRowStride, maskColStride;
        final int[] maskHeadOffset;

        Problem(Strided[] in, int maskInput, Attrs a) {
            Strided qs = Copy.contiguousOf(in[0], in[0].dtype()), ks = Copy.contiguousOf(in[1], in[1].dtype()), vs = Copy.contiguousOf(in[2], in[2].dtype());
            int r = qs.rank();
            int[] shape = qs.shape();
            int h = 1;
            for (int d = 0; d < r - 2; d++) h *= shape[d];
            heads = h;
            l = shape[r - 2];
            e = shape[r - 1];
            s = ks.shape()[r - 2];
            ev = vs.shape()[r - 1];
            Double sc = a.getOptionalFloat("scale");
            scale = sc != null ? sc : 1.0 / Math.sqrt(e);
            causal = a.getBool("causal");
            q = qs.storage().array();
            k = ks.storage().array();
            v = vs.storage().array();
            if (in.length > maskInput) {
                Strided m = in[maskInput];
                mask = m.storage().array();
                maskOffset = m.offset();
                // the mask's strides over [batch..., L, S], right-aligned, 0 where it broadcasts
                int[] st = new int[r];
                int mr = m.rank();
                for (int d = 0; d < mr; d++) st[r - mr + d] = m.shape()[d] == 1 ? 0 : m.strides()[d];
                maskRowStride = st[r - 2];
                maskColStride = st[r - 1];
                maskHeadOffset = new int[heads];
                for (int hh = 0; hh < heads; hh++) {
                    int rest = hh, off = 0;
                    for (int d = r - 3; d >= 0; d--) {
                        off += (rest % shape[d]) * st[d];
                        rest /= shape[d];
                    }
                    maskHeadOffset[hh] = off;
                }
            } else {
                mask = null;
                maskOffset = maskRowStride = maskColStride = 0;
                maskHeadOffset = null;
            }
        }

        int blocksQ() { return (l + BLOCK_Q - 1) / BLOCK_Q; }

        int blocksK() { return (s + BLOCK_K - 1) / BLOCK_K; }

        /**
         * Scores of queries [i0, i0+br) against keys [j0, j0+bc) of head h into sc (row-major,
         * bc wide): q.k * scale, plus an additive mask; -inf where a bool mask is false or the
         * causal rule hides the key.
         */
        void scores(int h, int i0, int br, int j0, int bc, Object sc) {
            dotRows(br, bc, e, q, (h * l + i0) * e, k, (h * s + j0) * e, sc);
            int mo = mask == null ? 0 : maskOffset + maskHeadOffset[h] + j0 * maskColStride;
            // row by row, each rule a tight loop with its dtype resolved once per row (as RowOps does)
            for (int r = 0; r < br; r++) {
                int row = r * bc, i = i0 + r, m = mo + i * maskRowStride;
                scaleRows(sc, row, bc, scale);
                if (mask instanceof boolean[] keep) hideWhereFalse(sc, row, bc, keep, m, maskColStride);
                else if (mask != null) addStrided(sc, row, bc, mask, m, maskColStride);
                if (causal) { // keys after query i are hidden: a tail of the row
                    int visible = Math.max(0, Math.min(bc, i - j0 + 1));
                    fill(sc, row + visible, bc - visible, Double.NEGATIVE_INFINITY);
                }
            }
        }

        /** Key blocks a query block sees: all, or under the causal rule those starting at or before its last query. */
        int keyBlocksFor(int i0, int br) { return causal ? Math.min(blocksK(), (i0 + br - 1) / BLOCK_K + 1) : blocksK(); }

        /** The first query block that sees key block kb (the causal rule hides it from earlier queries). */
        int firstQueryBlockFor(int j0) { return causal ? Math.min(blocksQ(), j0 / BLOCK_Q) : 0; }
    }

    private static Strided forward(Strided[] in, Attrs a, TensorType outT) {
        Problem p = new Problem(in, 3, a);
        Strided out = Strided.allocate(outT.dtype(), outT.concreteShape());
        Object o = out.storage().array();
        if (p.s == 0 || p.l == 0) return out; // no keys: a softmax over nothing times nothing is 0, as PyTorch's
        int blocks = p.blocksQ();
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
                    p.scores(h, i0, br, j0, bc, sc);
                    for (int r = 0; r < br; r++) onlineSoftmaxRow(sc, r * bc, bc, max, sum, r, acc, r * p.ev, p.ev);
                    addProduct(br, p.ev, bc, sc, 0, bc, 1, p.v, (h * p.s + j0) * p.ev, acc, 0);
                }
                int oo = (h * p.l + i0) * p.ev;
                for (int r = 0; r < br; r++) {
                    double inv = 1.0 / sum[r]; // 0 for a row with no key left: 0 * inf is NaN, as PyTorch's softmax of -inf
                    if (acc instanceof float[] f) for (int c = 0; c < p.ev; c++) ((float[]) o)[oo + r * p.ev + c] = (float) (f[r * p.ev + c] * inv);
                    else for (int c = 0; c < p.ev; c++) ((double[]) o)[oo + r * p.ev + c] = ((double[]) acc)[r * p.ev + c] * inv;
                }
            }
        });
        return out;
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
        Problem p = new Problem(in.length > 5 ? new Strided[] {in[0], in[1], in[2], in[5]} : new Strided[] {in[0], in[1], in[2]}, 3, a);
        Object o = Copy.contiguousOf(in[3], in[3].dtype()).storage().array(), go = Copy.contiguousOf(in[4], in[4].dtype()).storage().array();
        Strided grad = Strided.allocate(outT.dtype(), outT.concreteShape());
        Object g = grad.storage().array();
        if (p.s == 0 || p.l == 0) return grad;
        // pass 1: each query row's log-sum-exp of its scores and D = dot(dO, O)
        double[] lse = new double[p.heads * p.l], dot = new double[p.heads * p.l];
        int blocks = p.blocksQ();
        BatchSplit.run(p.heads * blocks, (long) BLOCK_Q * p.s * p.e, (chunk, from, to) -> {
            Object sc = RowOps.allocate(g, BLOCK_Q * BLOCK_K);
            double[] max = new double[BLOCK_Q], sum = new double[BLOCK_Q];
            for (int t = from; t < to; t++) {
                int h = t / blocks, i0 = (t % blocks) * BLOCK_Q, br = Math.min(BLOCK_Q, p.l - i0);
                java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
                java.util.Arrays.fill(sum, 0);
                for (int kb = 0, nk = p.keyBlocksFor(i0, br); kb < nk; kb++) {
                    int j0 = kb * BLOCK_K, bc = Math.min(BLOCK_K, p.s - j0);
                    p.scores(h, i0, br, j0, bc, sc);
                    for (int r = 0; r < br; r++) onlineSoftmaxRow(sc, r * bc, bc, max, sum, r, null, 0, 0);
                }
                for (int r = 0; r < br; r++) {
                    int row = h * p.l + i0 + r;
                    lse[row] = max[r] + Math.log(sum[r]); // -inf for a row with no key: its gradients come out NaN, as PyTorch's
                    dot[row] = dotRow(go, o, row * p.ev, p.ev);
                }
            }
        });
        String wrt = a.getString("wrt");
        if (wrt.equals("q")) {
            BatchSplit.run(p.heads * blocks, (long) BLOCK_Q * p.s * (2 * p.e + p.ev), (chunk, from, to) -> {
                Object sc = RowOps.allocate(g, BLOCK_Q * BLOCK_K), dp = RowOps.allocate(g, BLOCK_Q * BLOCK_K);
                for (int t = from; t < to; t++) {
                    int h = t / blocks, i0 = (t % blocks) * BLOCK_Q, br = Math.min(BLOCK_Q, p.l - i0);
                    int go0 = (h * p.l + i0) * p.ev, g0 = (h * p.l + i0) * p.e;
                    RowOps.zero(g, g0, br * p.e);
                    for (int kb = 0, nk = p.keyBlocksFor(i0, br); kb < nk; kb++) {
                        int j0 = kb * BLOCK_K, bc = Math.min(BLOCK_K, p.s - j0);
                        scoreGradient(p, h, i0, br, j0, bc, sc, dp, go, go0, lse, dot);
                        // dq += dS @ k
                        addProduct(br, p.e, bc, sc, 0, bc, 1, p.k, (h * p.s + j0) * p.e, g, g0);
                    }
                    scaleRows(g, g0, br * p.e, p.scale);
                }
            });
            return grad;
        }
        boolean forK = wrt.equals("k");
        int width = forK ? p.e : p.ev, kBlocks = p.blocksK();
        boolean[] deadRow = headsWithARowWithoutKeys(p, lse);
        BatchSplit.run(p.heads * kBlocks, (long) BLOCK_K * p.l * (2 * p.e + p.ev), (chunk, from, to) -> {
            Object sc = RowOps.allocate(g, BLOCK_Q * BLOCK_K), dp = RowOps.allocate(g, BLOCK_Q * BLOCK_K);
            for (int t = from; t < to; t++) {
                int h = t / kBlocks, j0 = (t % kBlocks) * BLOCK_K, bc = Math.min(BLOCK_K, p.s - j0);
                int g0 = (h * p.s + j0) * width;
                if (deadRow[h]) { // its probabilities are NaN for every key, and so is every key's gradient
                    fill(g, g0, bc * width, Double.NaN);
                    continue;
                }
                RowOps.zero(g, g0, bc * width);
                for (int qb = p.firstQueryBlockFor(j0); qb < blocks; qb++) {
                    int i0 = qb * BLOCK_Q, br = Math.min(BLOCK_Q, p.l - i0), go0 = (h * p.l + i0) * p.ev;
                    if (forK) {
                        scoreGradient(p, h, i0, br, j0, bc, sc, dp, go, go0, lse, dot);
                        // dk += dS^T @ q
                        addProduct(bc, p.e, br, sc, 0, 1, bc, p.q, (h * p.l + i0) * p.e, g, g0);
                    } else {
                        p.scores(h, i0, br, j0, bc, sc);
                        for (int r = 0; r < br; r++) expShifted(sc, r * bc, bc, lse[h * p.l + i0 + r]);
                        // dv += P^T @ dO
                        addProduct(bc, p.ev, br, sc, 0, 1, bc, go, go0, g, g0);
                    }
                }
                if (forK) scaleRows(g, g0, bc * width, p.scale);
            }
        });
        return grad;
    }

    /**
     * Heads with a query row that sees no key (its log-sum-exp -inf) or a NaN score. That row's
     * softmax is NaN at every key, so, as PyTorch computes it (P^T dO, dS^T q), dk and dv are
     * NaN at every key of the head. The causal loops skip the query blocks a key is hidden from,
     * so without this rule a key's gradient would depend on which blocks were skipped.
     */
    private static boolean[] headsWithARowWithoutKeys(Problem p, double[] lse) {
        boolean[] dead = new boolean[p.heads];
        for (int row = 0; row < lse.length; row++) if (!(lse[row] > Double.NEGATIVE_INFINITY)) dead[row / p.l] = true;
        return dead;
    }

    /** The tile's P = exp(scores - lse) into sc and dS = P * (dO v^T - D) over it (in sc); dp is scratch. */
    private static void scoreGradient(Problem p, int h, int i0, int br, int j0, int bc, Object sc, Object dp, Object go, int go0, double[] lse, double[] dot) {
        p.scores(h, i0, br, j0, bc, sc);
        for (int r = 0; r < br; r++) expShifted(sc, r * bc, bc, lse[h * p.l + i0 + r]);
        dotRows(br, bc, p.ev, go, go0, p.v, (h * p.s + j0) * p.ev, dp);
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

    /**
     * C[i][j] = dot(row i of A, row j of B) for row-major A [m x k] at ao and B [n x k] at bo, into
     * C [m x n] at 0: the shared GEMM with B viewed transposed. (Row-by-row dot products allocate
     * no packing buffer but measured 3-5x slower on 64 x 64 tiles of head dim 32 to 64.)
     */
    private static void dotRows(int m, int n, int k, Object a, int ao, Object b, int bo, Object c) {
        RowOps.gemm(m, n, k, a, ao, k, 1, b, bo, 1, k, c, 0, n, false);
    }

    /** C[m x n] at co (row-major) += A[m x k] with strides (ars, acs) (a tile or its transpose) times row-major B [k x n] at bo. */
    private static void addProduct(int m, int n, int k, Object a, int ao, int ars, int acs, Object b, int bo, Object c, int co) {
        RowOps.gemm(m, n, k, a, ao, ars, acs, b, bo, n, 1, c, co, n, true);
    }

    private static double dotRow(Object a, Object b, int off, int n) {
        double s = 0;
        if (a instanceof float[] x) {
            float[] y = (float[]) b;
            for (int i = 0; i < n; i++) s += (double) x[off + i] * y[off + i];
        } else {
            double[] x = (double[]) a, y = (double[]) b;
            for (int i = 0; i < n; i++) s += x[off + i] * y[off + i];
        }
        return s;
    }

    /** a[off + c] = -inf where keep[ko + c * ks] is false. */
    private static void hideWhereFalse(Object a, int off, int n, boolean[] keep, int ko, int ks) {
        if (a instanceof float[] f) {
            for (int c = 0; c < n; c++) if (!keep[ko + c * ks]) f[off + c] = Float.NEGATIVE_INFINITY;
        } else {
            double[] d = (double[]) a;
            for (int c = 0; c < n; c++) if (!keep[ko + c * ks]) d[off + c] = Double.NEGATIVE_INFINITY;
        }
    }

    /** a[off + c] += add[ao + c * as] (the additive mask, of a's dtype). */
    private static void addStrided(Object a, int off, int n, Object add, int ao, int as) {
        if (a instanceof float[] f) {
            float[] x = (float[]) add;
            for (int c = 0; c < n; c++) f[off + c] += x[ao + c * as];
        } else {
            double[] d = (double[]) a, x = (double[]) add;
            for (int c = 0; c < n; c++) d[off + c] += x[ao + c * as];
        }
    }

    private static void fill(Object a, int off, int n, double v) {
        if (a instanceof float[] f) java.util.Arrays.fill(f, off, off + n, (float) v);
        else java.util.Arrays.fill((double[]) a, off, off + n, v);
    }

    private static void scaleRows(Object g, int off, int n, double scale) {
        if (g instanceof float[] f) {
            float fs = (float) scale;
            for (int i = 0; i < n; i++) f[off + i] *= fs;
        } else {
            double[] d = (double[]) g;
            for (int i = 0; i < n; i++) d[off + i] *= scale;
        }
    }
}
