package dev.kiln.backend.cpu;

/**
 * Walks a contiguous output of some shape together with N strided inputs, one innermost row
 * at a time, after merging dims that are contiguous for every operand. Kernels then only
 * write tight 1-D loops over (offset, stride) rows.
 */
public final class StridedLoop {
    private StridedLoop() {}

    /** Called once per row of length n; offs[k] is input k's start, strides[k] its step. */
    @FunctionalInterface
    public interface Row {
        void row(int outOff, int[] offs, int[] strides, int n);
    }

    /**
     * @param shape   the output shape
     * @param strides per input, strides aligned to {@code shape} (0 on broadcast dims)
     * @param offsets per input, the storage offset
     */
    public static void forEachRow(int[] shape, int[][] strides, int[] offsets, Row fn) {
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
        int[] offs = offsets.clone();
        int[] inner = new int[k];
        if (m == 0) {
            fn.row(0, offs, inner, 1);
            return;
        }
        int n = sh[m - 1];
        for (int i = 0; i < k; i++) inner[i] = st[i][m - 1];
        int outer = 1;
        for (int d = 0; d < m - 1; d++) outer *= sh[d];
        int[] idx = new int[Math.max(m - 1, 1)];
        int[] cur = offsets.clone();
        int outOff = 0;
        for (int o = 0; o < outer; o++) {
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
