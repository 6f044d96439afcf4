package dev.kiln.backend.cpu;

import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.vector.FloatRows;
import dev.kiln.backend.cpu.vector.VectorSupport;
import dev.kiln.backend.op.Attrs;

/**
 * One attention call as the CPU kernels see it: {@code heads} independent [L, E] x [S, E] x
 * [S, Ev] attentions over q, k and v read in place ({@link Heads}), the scale, the causal rule
 * and the mask's layout over [batch..., L, S]; and the score tiles they all compute the same way.
 */
final class AttentionProblem {
    static final int BLOCK_Q = 64, BLOCK_K = 64;
    /**
     * Up to this many keys a block of queries takes its score rows whole ([BLOCK_Q x S], 2 MiB at
     * S = 8192 in float32, with k and v transposed beside it): one exact softmax per row, and the
     * one-pass backward. Beyond it the kernels tile the keys by BLOCK_K with an online softmax, so
     * memory stays O(L + S) per head whatever S is. Whole rows measured 1.6x (forward) and 3x
     * (forward + backward) faster than the tiles at S = 4096, 2.3x at 8192 (forward + backward).
     * {@code -Dkiln.attention.wholeRowKeys=N} lowers (or raises) the limit, read per call: to bound
     * the scratch memory per thread, and in tests to reach the tiled kernels at small sizes.
     */
    static final int ROW_KEYS_MAX = 8192;
    static final String ROW_KEYS_PROPERTY = "kiln.attention.wholeRowKeys";

    /**
     * From this many queries the whole-row kernels transpose a head's k (and v) once to read
     * them by rows; below (a decoding step's one query) the transposition would cost as much as
     * the products, and the GEMM reads k in place.
     */
    static final int TRANSPOSE_MIN_QUERIES = 16;
    private static final FloatRows ROWS = VectorSupport.floatRows();

    final int heads, l, s, e, ev;
    final double scale;
    final boolean causal;
    final Heads q, k, v;
    final Object mask; // boolean[], float[], double[] or null
    final int maskOffset, maskRowStride, maskColStride;
    final int[] maskHeadOffset;

    /**
     * A [batch..., rows, cols] operand read in place: per head (flattened batch index) the offset
     * of its first row, one row stride, the columns contiguous. So q, k and v sliced out of one
     * [B, T, 3C] projection and transposed to [B, H, T, hd] are not copied first.
     */
    record Heads(Object data, int[] offsets, int rowStride) {
        /** x's heads in place when its last dim is contiguous (or one long), else of a contiguous copy. */
        static Heads of(Strided x, int heads) {
            int r = x.rank();
            if (x.shape()[r - 1] > 1 && x.strides()[r - 1] != 1) x = Copy.contiguousOf(x, x.dtype());
            int[] shape = x.shape(), st = x.strides(), offsets = new int[heads];
            for (int h = 0; h < heads; h++) {
                int rest = h, off = x.offset();
                for (int d = r - 3; d >= 0; d--) {
                    off += (rest % shape[d]) * st[d];
                    rest /= shape[d];
                }
                offsets[h] = off;
            }
            return new Heads(x.storage().array(), offsets, st[r - 2]);
        }

        /** Where row i of head h starts. */
        int row(int h, int i) { return offsets[h] + i * rowStride; }
    }

    /** From (q, k, v[, mask]) in {@code in}, the mask at index {@code maskInput} when present. */
    AttentionProblem(Strided[] in, int maskInput, Attrs a) {
        int r = in[0].rank();
        int[] shape = in[0].shape();
        int h = 1;
        for (int d = 0; d < r - 2; d++) h *= shape[d];
        heads = h;
        l = shape[r - 2];
        e = shape[r - 1];
        s = in[1].shape()[r - 2];
        ev = in[2].shape()[r - 1];
        q = Heads.of(in[0], heads);
        k = Heads.of(in[1], heads);
        v = Heads.of(in[2], heads);
        Double sc = a.getOptionalFloat("scale");
        scale = sc != null ? sc : 1.0 / Math.sqrt(e);
        causal = a.getBool("causal");
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

    /** Whether a block of queries takes its score rows whole (see {@link #ROW_KEYS_MAX}). */
    boolean wholeRows() { return s <= Integer.getInteger(ROW_KEYS_PROPERTY, ROW_KEYS_MAX); }

    /** Whether the whole-row kernels read k and v transposed ({@link #TRANSPOSE_MIN_QUERIES}). */
    boolean transposesKeys() { return l >= TRANSPOSE_MIN_QUERIES; }

    /** The keys queries [i0, i0+br) can see, [0, n): all, or under the causal rule up to the last query. */
    int keysFor(int i0, int br) { return causal ? Math.min(s, i0 + br) : s; }

    /** Key blocks a query block sees: all, or under the causal rule those starting at or before its last query. */
    int keyBlocksFor(int i0, int br) { return causal ? Math.min(blocksK(), (i0 + br - 1) / BLOCK_K + 1) : blocksK(); }

    /** The first query block that sees key block kb (the causal rule hides it from earlier queries). */
    int firstQueryBlockFor(int j0) { return causal ? Math.min(blocksQ(), j0 / BLOCK_Q) : 0; }

    /**
     * Scores of queries [i0, i0+br) against keys [j0, j0+bc) of head h into sc (row-major,
     * bc wide): q.k * scale, plus an additive mask; -inf where a bool mask is false or the
     * causal rule hides the key. kt is the head's k transposed ({@link #transposed}), or null
     * to read k through the GEMM.
     */
    void scores(int h, int i0, int br, int j0, int bc, Object sc, Object kt) {
        if (kt != null) product(br, bc, e, q.data, q.row(h, i0), q.rowStride, 1, kt, j0, s, sc, 0, bc, false);
        else dotRows(br, bc, e, q.data, q.row(h, i0), q.rowStride, k.data, k.row(h, j0), k.rowStride, sc);
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

    /**
     * The softmax P of queries [i0, i0+br) over keys [0, nk) of head h, into sc (row-major, nk
     * wide), for whole rows (nk from {@link #keysFor}): the scores, then each row's softmax over
     * the keys it can see (the causal rule's hidden tail is 0 without computing its exps). A row
     * whose every score is -inf (it sees no key) is 0, as PyTorch's scaled_dot_product_attention
     * gives from 2.5 on (its safe softmax). True when a row came out NaN, from a NaN score (every
     * element of that row is NaN then).
     */
    boolean probabilities(int h, int i0, int br, int nk, Object sc, Object kt) {
        scores(h, i0, br, 0, nk, sc, kt);
        boolean nanRow = false;
        for (int r = 0; r < br; r++) {
            int off = r * nk, visible = causal ? Math.min(nk, i0 + r + 1) : nk;
            if (allHidden(sc, off, visible)) fill(sc, off, visible, 0);
            else if (sc instanceof float[] f) {
                ROWS.softmax(f, off, f, off, visible);
                nanRow |= Float.isNaN(f[off]);
            } else {
                ReductionKernels.softmaxRow((double[]) sc, off, visible, false);
                nanRow |= Double.isNaN(((double[]) sc)[off]);
            }
            fill(sc, off + visible, nk - visible, 0);
        }
        return nanRow;
    }

    /** Whether a[off .. off+n) is all -inf: a row that sees no key (the loop ends at a row's first visible score). */
    static boolean allHidden(Object a, int off, int n) {
        if (a instanceof float[] f) {
            for (int c = 0; c < n; c++) if (f[off + c] != Float.NEGATIVE_INFINITY) return false;
        } else {
            double[] d = (double[]) a;
            for (int c = 0; c < n; c++) if (d[off + c] != Double.NEGATIVE_INFINITY) return false;
        }
        return true;
    }

    /**
     * Head h of x ([S, cols] rows) transposed into t, [cols x S] row-major: the whole-row
     * kernels read k^T and v^T by rows, so their products need no packing.
     */
    void transposed(Heads x, int h, int cols, Object t) {
        for (int j = 0; j < s; j++) {
            int from = x.row(h, j);
            if (t instanceof float[] f) {
                float[] src = (float[]) x.data;
                for (int c = 0; c < cols; c++) f[c * s + j] = src[from + c];
            } else {
                double[] d = (double[]) t, src = (double[]) x.data;
                for (int c = 0; c < cols; c++) d[c * s + j] = src[from + c];
            }
        }
    }

    /**
     * C (+)= A B, A [m x k] with strides (ars, acs), B [k x n] by rows of stride ldb, C row-major
     * (ldc): a float tile through {@link FloatRows#product}, unpacked (the operands are a head's,
     * in cache; packing them cost as much as the product), float64 through the GEMM.
     */
    static void product(int m, int n, int k, Object a, int ao, int ars, int acs, Object b, int bo, int ldb, Object c, int co, int ldc, boolean accumulate) {
        if (a instanceof float[] fa) ROWS.product(m, n, k, fa, ao, ars, acs, (float[]) b, bo, ldb, (float[]) c, co, ldc, accumulate);
        else RowOps.gemm(m, n, k, a, ao, ars, acs, b, bo, ldb, 1, c, co, ldc, accumulate);
    }

    /**
     * C[i][j] = dot(row i of A, row j of B) for A [m x k] and B [n x k] with row strides lda and
     * ldb, into C [m x n] at 0: the shared GEMM with B viewed transposed. (Row-by-row dot products
     * allocate no packing buffer but measured 3-5x slower on 64 x 64 tiles of head dim 32 to 64.)
     */
    static void dotRows(int m, int n, int k, Object a, int ao, int lda, Object b, int bo, int ldb, Object c) {
        RowOps.gemm(m, n, k, a, ao, lda, 1, b, bo, 1, ldb, c, 0, n, false);
    }

    /** C[m x n] at co (row-major, contiguous) += A[m x k] with strides (ars, acs) (a tile or its transpose) times B [k x n] of row stride ldb. */
    static void addProduct(int m, int n, int k, Object a, int ao, int ars, int acs, Object b, int bo, int ldb, Object c, int co) {
        product(m, n, k, a, ao, ars, acs, b, bo, ldb, c, co, n, true);
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

    static void fill(Object a, int off, int n, double v) {
        if (a instanceof float[] f) java.util.Arrays.fill(f, off, off + n, (float) v);
        else java.util.Arrays.fill((double[]) a, off, off + n, v);
    }

    static void scaleRows(Object g, int off, int n, double scale) {
        if (g instanceof float[] f) {
            float fs = (float) scale;
            for (int i = 0; i < n; i++) f[off + i] *= fs;
        } else {
            double[] d = (double[]) g;
            for (int i = 0; i < n; i++) d[off + i] *= scale;
        }
    }
}
