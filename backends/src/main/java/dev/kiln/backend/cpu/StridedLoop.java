package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.parallel.Parallel;

/**
 * Walks a contiguous output of some shape together with N strided inputs, one innermost row
 * at a time, after merging dims that are contiguous for every operand. Kernels then only
 * write tight 1-D loops over (offset, stride) rows.
 *
 * <p>A large walk (two {@link ElementSplit#RANGE}s of elements or more) is split into ranges of
 * whole rows on the pool: broadcast adds such as a linear layer's bias, and transposing copies,
 * are memory-bound passes as long as the contiguous ones, which {@link ElementSplit} already
 * splits. Each row is computed by the same code whatever range holds it, so results do not
 * depend on the split; the row callback must only write its own row.
 */
public final class StridedLoop {
    private StridedLoop() {}

    /** Called once per row of length n; offs[k] is input k's start, strides[k] its step. */
    @FunctionalInterface
    public interface Row {
        void row(int outOff, int[] offs, int[] strides, int n);
    }

    /**
     * Visits every row, in parallel ranges of rows when the walk is large.
     *
     * @param shape   the output shape
     * @param strides per input, strides aligned to {@code shape} (0 on broadcast dims)
     * @param offsets per input, the storage offset
     */
    public static void forEachRow(int[] shape, int[][] strides, int[] offsets, Row fn) {
        walk(shape, strides, offsets, fn, true);
    }

    /**
     * Visits every row in order on this thread: for a walk whose rows may touch the same memory
     * (a copy between overlapping views of one buffer), where the order is part of the result.
     */
    public static void forEachRowInOrder(int[] shape, int[][] strides, int[] offsets, Row fn) {
        walk(shape, strides, offsets, fn, false);
    }

    private static void walk(int[] shape, int[][] strides, int[] offsets, Row fn, boolean mayParallel) {
        int k = strides.length;
        int r = shape.length;
        // drop size-1 dims, then merge neighbours that are contiguous for all operands
        int[] sh = new int[r];
        int[][] st = new int[k][r];
        int m = 0;
        for (int d = 0; d < r; d++) {
            if (shape[d] == 0) return;
            if (shape[d] == 1) continue;
            if (m > 0) {
                boolean mergeable = true;
                for (int i = 0; i < k && mergeable; i++) {
                    mergeable = st[i][m - 1] == strides[i][d] * shape[d];
                }
                if (mergeable) {
                    sh[m - 1] *= shape[d];
                    for (int i = 0; i < k; i++) st[i][m - 1] = strides[i][d];
                    continue;
                }
            }
            sh[m] = shape[d];
            for (int i = 0; i < k; i++) st[i][m] = strides[i][d];
            m++;
        }
        if (m == 0) {
            fn.row(0, offsets.clone(), new int[k], 1);
            return;
        }
        int n = sh[m - 1];
        int outer = 1;
        for (int d = 0; d < m - 1; d++) outer *= sh[d];
        long total = (long) outer * n;
        // ranges of about RANGE elements, fixed by the shape alone
        int parts = (int) Math.min(outer, total / ElementSplit.RANGE);
        if (!mayParallel || parts < 2) {
            rows(sh, st, m, offsets, 0, outer, fn);
            return;
        }
        int dims = m;
        Parallel.forRanges(parts, outer, 1, true, (q, from, to) -> rows(sh, st, dims, offsets, from, to, fn));
    }

    /** Rows [from, to) of the merged walk: sh/st hold m merged dims, the last one the row. */
    private static void rows(int[] sh, int[][] st, int m, int[] offsets, int from, int to, Row fn) {
        int k = st.length;
        int n = sh[m - 1];
        int[] inner = new int[k];
        for (int i = 0; i < k; i++) inner[i] = st[i][m - 1];
        // the multi-index of row `from` over the outer dims, and the inputs' offsets there
        int[] idx = new int[Math.max(m - 1, 1)];
        int[] cur = offsets.clone();
        int rest = from;
        for (int d = m - 2; d >= 0; d--) {
            idx[d] = rest % sh[d];
            rest /= sh[d];
            for (int i = 0; i < k; i++) cur[i] += idx[d] * st[i][d];
        }
        int[] offs = new int[k];
        int outOff = from * n;
        for (int o = from; o < to; o++) {
            System.arraycopy(cur, 0, offs, 0, k);
            fn.row(outOff, offs, inner, n);
            outOff += n;
            // advance the multi-index over the outer dims
            for (int d = m - 2; d >= 0; d--) {
                idx[d]++;
                for (int i = 0; i < k; i++) cur[i] += st[i][d];
                if (idx[d] < sh[d]) break;
                for (int i = 0; i < k; i++) cur[i] -= st[i][d] * sh[d];
                idx[d] = 0;
            }
        }
    }
}
