package dev.kiln.backend.cpu;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.backend.cpu.vector.FloatRows;
import dev.kiln.backend.cpu.vector.VectorSupport;
import java.util.Map;

/**
 * layer_norm and its gradients, a row (the normalized dims' elements, contiguous) at a time.
 * A float32 row is a few vector passes ({@link FloatRows}) over data in L1 instead of the
 * composite's dozen full-size tensors: its mean, its variance from the centered row (two
 * passes, so no cancellation), each summed in float lanes by blocks added in double; float64
 * rows sum in double. Rows are split over the pool; the weight gradient sums
 * rows per chunk and then the chunks in order, so its bits do not depend on the thread count.
 */
final class NormKernels {
    private NormKernels() {}

    private static final FloatRows ROWS = VectorSupport.floatRows();

    static void register(Map<Op, CpuKernel> k, Map<Op, IntoKernel> into) {
        k.put(Op.LAYER_NORM, (in, a, out) -> forward(in, a, out, Strided.allocate(out.dtype(), out.concreteShape())));
        k.put(Op.LAYER_NORM_GRAD, (in, a, out) -> backward(in, a, out, Strided.allocate(out.dtype(), out.concreteShape())));
        // float32 results into a compiled plan's arena slot (every row is written); the weight
        // gradient is small and stays allocated
        into.put(Op.LAYER_NORM, (in, a, out, dest) -> into(in, dest) && forward(in, a, out, dest) != null);
        into.put(Op.LAYER_NORM_GRAD, IntoKernel.when((a, out) -> a.getString("wrt").equals("x"),
                (in, a, out, dest) -> into(in, dest) && backward(in, a, out, dest) != null));
    }

    private static boolean into(Strided[] in, Strided dest) {
        if (dest.dtype() != DType.FLOAT32) return false;
        for (Strided x : in) if (x.storage() == dest.storage()) return false;
        return true;
    }

    /** The rows of x: n elements each (the normalized dims), count of them. */
    private record Rows(int count, int n) {
        static Rows of(Strided x, Attrs a) {
            int n = 1;
            for (int d = x.rank() - a.getInt("dims"); d < x.rank(); d++) n *= x.shape()[d];
            return new Rows(n == 0 ? 0 : x.numel() / n, n);
        }
    }

    /** layer_norm into y (contiguous, of out's shape and dtype, at its offset). */
    private static Strided forward(Strided[] in, Attrs a, TensorType out, Strided y) {
        DType t = out.dtype();
        Strided x = Copy.denseOf(in[0], t);
        Strided w = in.length > 1 ? Copy.denseOf(in[1], t) : null, b = in.length > 2 ? Copy.denseOf(in[2], t) : null;
        Rows rows = Rows.of(x, a);
        int n = rows.n;
        double eps = a.getFloat("eps");
        int yo = y.offset();
        if (t == DType.FLOAT32) {
            float[] xs = x.storage().f32(), ys = y.storage().f32();
            float[] ws = w == null ? null : w.storage().f32(), bs = b == null ? null : b.storage().f32();
            int xo = x.offset(), wo = w == null ? 0 : w.offset(), bo = b == null ? 0 : b.offset();
            BatchSplit.run(rows.count, 8L * n, (chunk, from, to) -> {
                float[] scalars = new float[2];
                for (int r = from; r < to; r++) {
                    int xr = xo + r * n, yr = yo + r * n;
                    // y = (x - mean) * rstd [* w] [+ b], each a vector pass over the row in L1
                    centered(xs, xr, n, ys, yr, eps, scalars);
                    ROWS.binary(FloatRows.Binary.MUL, ys, yr, 1, scalars, 1, 0, ys, yr, n);
                    if (ws != null) ROWS.binary(FloatRows.Binary.MUL, ys, yr, 1, ws, wo, 1, ys, yr, n);
                    if (bs != null) ROWS.binary(FloatRows.Binary.ADD, ys, yr, 1, bs, bo, 1, ys, yr, n);
                }
            });
        } else {
            double[] xs = x.storage().f64(), ys = y.storage().f64();
            double[] ws = w == null ? null : w.storage().f64(), bs = b == null ? null : b.storage().f64();
            int xo = x.offset(), wo = w == null ? 0 : w.offset(), bo = b == null ? 0 : b.offset();
            double[] stats = new double[2];
            for (int r = 0; r < rows.count; r++) {
                int xr = xo + r * n, yr = yo + r * n;
                stats(xs, xr, n, eps, stats);
                for (int i = 0; i < n; i++) {
                    double v = (xs[xr + i] - stats[0]) * stats[1];
                    if (ws != null) v *= ws[wo + i];
                    if (bs != null) v += bs[bo + i];
                    ys[yr + i] = v;
                }
            }
        }
        return y;
    }

    /**
     * wrt x: dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)) per row, with gw = g * weight
     * and xhat = (x - mean) * rstd. wrt weight: the sum over rows of g * xhat.
     */
    private static Strided backward(Strided[] in, Attrs a, TensorType out, Strided result) {
        DType t = out.dtype();
        Strided x = Copy.denseOf(in[0], t), g = Copy.denseOf(in[1], t), w = in.length > 2 ? Copy.denseOf(in[2], t) : null;
        Rows rows = Rows.of(x, a);
        double eps = a.getFloat("eps");
        boolean wrtX = a.getString("wrt").equals("x");
        if (t == DType.FLOAT32) {
            if (wrtX) inputGradFloat(x, g, w, rows, eps, result);
            else weightGradFloat(x, g, rows, eps, result);
        } else {
            if (wrtX) inputGradDouble(x, g, w, rows, eps, result);
            else weightGradDouble(x, g, rows, eps, result);
        }
        return result;
    }

    private static void inputGradFloat(Strided x, Strided g, Strided w, Rows rows, double eps, Strided dx) {
        float[] xs = x.storage().f32(), gs = g.storage().f32(), ws = w == null ? null : w.storage().f32(), ds = dx.storage().f32();
        int xo = x.offset(), go = g.offset(), wo = w == null ? 0 : w.offset(), n = rows.n;
        BatchSplit.run(rows.count, 16L * n, (chunk, from, to) -> {
            float[] xhat = new float[n], gw = ws == null ? null : new float[n], scalars = new float[4];
            for (int r = from; r < to; r++) {
                int gr = go + r * n, dr = dx.offset() + r * n;
                centered(xs, xo + r * n, n, xhat, 0, eps, scalars);
                ROWS.binary(FloatRows.Binary.MUL, xhat, 0, 1, scalars, 1, 0, xhat, 0, n);
                float[] ga = gs;
                int gaOff = gr;
                if (ws != null) {
                    ROWS.binary(FloatRows.Binary.MUL, gs, gr, 1, ws, wo, 1, gw, 0, n);
                    ga = gw;
                    gaOff = 0;
                }
                // dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat))
                scalars[2] = (float) (ROWS.sum(ga, gaOff, n) / n);
                scalars[3] = (float) (ROWS.dot(ga, gaOff, xhat, 0, n) / n);
                ROWS.binary(FloatRows.Binary.MUL, xhat, 0, 1, scalars, 3, 0, ds, dr, n);
                ROWS.binary(FloatRows.Binary.SUB, ga, gaOff, 1, ds, dr, 1, ds, dr, n);
                ROWS.binary(FloatRows.Binary.SUB, ds, dr, 1, scalars, 2, 0, ds, dr, n);
                ROWS.binary(FloatRows.Binary.MUL, ds, dr, 1, scalars, 1, 0, ds, dr, n);
            }
        });
    }

    private static void weightGradFloat(Strided x, Strided g, Rows rows, double eps, Strided dw) {
        float[] xs = x.storage().f32(), gs = g.storage().f32(), ds = dw.storage().f32();
        int xo = x.offset(), go = g.offset(), n = rows.n;
        double[][] partial = new double[BatchSplit.chunks(rows.count)][n];
        BatchSplit.run(rows.count, 8L * n, (chunk, from, to) -> {
            double[] acc = partial[chunk];
            float[] prod = new float[n], scalars = new float[2];
            for (int r = from; r < to; r++) {
                // g * xhat for the row, added to the chunk's double sums
                centered(xs, xo + r * n, n, prod, 0, eps, scalars);
                ROWS.binary(FloatRows.Binary.MUL, prod, 0, 1, scalars, 1, 0, prod, 0, n);
                ROWS.binary(FloatRows.Binary.MUL, gs, go + r * n, 1, prod, 0, 1, prod, 0, n);
                for (int i = 0; i < n; i++) acc[i] += prod[i];
            }
        });
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (double[] p : partial) s += p[i];
            ds[dw.offset() + i] = (float) s;
        }
    }

    /**
     * out[oo, oo + n) = x[xo, xo + n) - mean, and scalars = {mean, 1 / sqrt(biased variance +
     * eps)}: the mean as {@link FloatRows#sum} sums (float lanes, blocks in double), the variance
     * from the centered row's squares ({@link FloatRows#dot}; two passes, so no cancellation).
     * PyTorch's CPU layer norm also accumulates float rows in float.
     */
    private static void centered(float[] x, int xo, int n, float[] out, int oo, double eps, float[] scalars) {
        float mean = n == 0 ? 0f : (float) (ROWS.sum(x, xo, n) / n);
        scalars[0] = mean;
        ROWS.binary(FloatRows.Binary.SUB, x, xo, 1, scalars, 0, 0, out, oo, n);
        scalars[1] = (float) (1.0 / Math.sqrt(ROWS.dot(out, oo, out, oo, n) / n + eps));
    }

    private static void inputGradDouble(Strided x, Strided g, Strided w, Rows rows, double eps, Strided dx) {
        double[] xs = x.storage().f64(), gs = g.storage().f64(), ws = w == null ? null : w.storage().f64(), ds = dx.storage().f64();
        int xo = x.offset(), go = g.offset(), wo = w == null ? 0 : w.offset(), n = rows.n;
        double[] stats = new double[2];
        for (int r = 0; r < rows.count; r++) {
            int xr = xo + r * n, gr = go + r * n, dr = dx.offset() + r * n;
            stats(xs, xr, n, eps, stats);
            double sumG = 0, sumGx = 0;
            for (int i = 0; i < n; i++) {
                double gw = ws == null ? gs[gr + i] : gs[gr + i] * ws[wo + i];
                sumG += gw;
                sumGx += gw * (xs[xr + i] - stats[0]) * stats[1];
            }
            double meanG = sumG / n, meanGx = sumGx / n;
            for (int i = 0; i < n; i++) {
                double gw = ws == null ? gs[gr + i] : gs[gr + i] * ws[wo + i];
                ds[dr + i] = stats[1] * (gw - meanG - (xs[xr + i] - stats[0]) * stats[1] * meanGx);
            }
        }
    }

    private static void weightGradDouble(Strided x, Strided g, Rows rows, double eps, Strided dw) {
        double[] xs = x.storage().f64(), gs = g.storage().f64(), ds = dw.storage().f64();
        int xo = x.offset(), go = g.offset(), n = rows.n;
        double[] stats = new double[2], acc = new double[n];
        for (int r = 0; r < rows.count; r++) {
            int xr = xo + r * n, gr = go + r * n;
            stats(xs, xr, n, eps, stats);
            for (int i = 0; i < n; i++) acc[i] += gs[gr + i] * (xs[xr + i] - stats[0]) * stats[1];
        }
        System.arraycopy(acc, 0, ds, dw.offset(), n);
    }

    /** stats = {mean, 1 / sqrt(biased variance + eps)} of a float64 row x[o, o + n), summed in double. */
    static void stats(double[] x, int o, int n, double eps, double[] stats) {
        double s = 0;
        for (int i = 0; i < n; i++) s += x[o + i];
        double mean = s / n, v = 0;
        for (int i = 0; i < n; i++) {
            double d = x[o + i] - mean;
            v += d * d;
        }
        stats[0] = mean;
        stats[1] = 1.0 / Math.sqrt(v / n + eps);
    }
}
