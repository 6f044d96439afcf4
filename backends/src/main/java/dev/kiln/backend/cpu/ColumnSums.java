package dev.kiln.backend.cpu;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.vector.FloatRows;
import dev.kiln.backend.cpu.vector.VectorSupport;

/**
 * float32 sums of a contiguous tensor whose kept dims are one consecutive block, e.g. dim 0 of
 * [N,F] (a linear layer's bias gradient) or dims {0,2,3} of [N,C,H,W] (a conv bias gradient).
 * The generic path moves the reduced dims last with a transposing copy, which reads the input
 * with a large stride and is ~70x slower than a row sum; here whole rows are accumulated into
 * the output in place (vectorized adds over contiguous memory) and the reduced inner dims
 * are summed as contiguous rows.
 *
 * <p>Rounding follows {@link FloatRows#sum}: float partial sums over blocks of
 * {@link FloatRows#SUM_BLOCK} rows, accumulated in double in a fixed order.
 */
final class ColumnSums {
    private ColumnSums() {}

    private static final FloatRows ROWS = VectorSupport.floatRows();

    /** The sum, or null when the layout is not one this handles (the caller takes the generic path). */
    static Strided trySum(Strided x, int[] dims, int[] outShape) {
        if (x.dtype() != DType.FLOAT32 || !x.isContiguous() || dims.length == 0) return null;
        int r = x.rank();
        boolean[] red = new boolean[r];
        for (int d : dims) red[d] = true;
        int a = 0;
        while (a < r && red[a]) a++;
        int b = a;
        while (b < r && !red[b]) b++;
        for (int i = b; i < r; i++) if (!red[i]) return null;
        if (a == 0) return null; // nothing reduced in front: the generic path reads plain rows already
        if (b == a) return null; // nothing kept: a full reduction is one contiguous row sum there
        int[] sh = x.shape();
        long outer = 1, mid = 1, inner = 1;
        for (int i = 0; i < a; i++) outer *= sh[i];
        for (int i = a; i < b; i++) mid *= sh[i];
        for (int i = b; i < r; i++) inner *= sh[i];
        if (outer * mid * inner == 0) return null;
        Strided out = Strided.allocate(DType.FLOAT32, outShape);
        float[] xs = x.storage().f32(), o = out.storage().f32();
        int m = (int) mid, in = (int) inner, base = x.offset();
        double[] total = new double[m];
        if (in == 1) {
            float[] block = new float[m];
            for (long start = 0; start < outer; start += FloatRows.SUM_BLOCK) {
                long end = Math.min(outer, start + FloatRows.SUM_BLOCK);
                java.util.Arrays.fill(block, 0f);
                for (long row = start; row < end; row++) ROWS.binary(FloatRows.Binary.ADD, block, 0, 1, xs, base + (int) (row * m), 1, block, 0, m);
                for (int i = 0; i < m; i++) total[i] += block[i];
            }
        } else {
            for (long q = 0; q < outer; q++) {
                for (int i = 0; i < m; i++) total[i] += ROWS.sum(xs, base + (int) ((q * m + i) * in), in);
            }
        }
        for (int i = 0; i < m; i++) o[i] = (float) total[i];
        return out;
    }
}
