package dev.kiln.backend.cpu;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import java.util.Map;

/**
 * layer_norm and its gradients, a row (the normalized dims' elements, contiguous) at a time.
 * Each row's mean and variance are summed in double over four chains (two passes: the mean,
 * then squared deviations), so a row costs a few passes over data in L1 instead of the
 * composite's dozen full-size tensors. Rows are split over the pool; the weight gradient sums
 * rows per chunk and then the chunks in order, so its bits do not depend on the thread count.
 */
final class NormKernels {
    private NormKernels() {}

    static void register(Map<Op, CpuKernel> k) {
        k.put(Op.LAYER_NORM, NormKernels::forward);
        k.put(Op.LAYER_NORM_GRAD, NormKernels::backward);
    }

    /** The rows of x: n elements each (the normalized dims), count of them. */
    private record Rows(int count, int n) {
        static Rows of(Strided x, Attrs a) {
            int n = 1;
            for (int d = x.rank() - a.getInt("dims"); d < x.rank(); d++) n *= x.shape()[d];
            return new Rows(n == 0 ? 0 : x.numel() / n, n);
        }
    }

    private static Strided forward(Strided[] in, Attrs a, TensorType out) {
        DType t = out.dtype();
        Strided x = Copy.denseOf(in[0], t);
        Strided w = in.length > 1 ? Copy.denseOf(in[1], t) : null, b = in.length > 2 ? Copy.denseOf(in[2], t) : null;
        Rows rows = Rows.of(x, a);
        int n = rows.n;
        double eps = a.getFloat("eps");
        Strided y = Strided.allocate(t, out.concreteShape());
        if (t == DType.FLOAT32) {
            float[] xs = x.storage().f32(), ys = y.storage().f32();
            float[] ws = w == null ? null : w.storage().f32(), bs = b == null ? null : b.storage().f32();
            int xo = x.offset(), wo = w == null ? 0 : w.offset(), bo = b == null ? 0 : b.offset();
            BatchSplit.run(rows.count, 8L * n, (chunk, from, to) -> {
                double[] stats = new double[2];
                for (int r = from; r < to; r++) {
                    int xr = xo + r * n, yr = r * n;
                    stats(xs, xr, n, eps, stats);
                    float mean = (float) stats[0], rstd = (float) stats[1];
                    for (int i = 0; i < n; i++) {
                        float v = (xs[xr + i] - mean) * rstd;
                        if (ws != null) v *= ws[wo + i];
                        if (bs != null) v += bs[bo + i];
                        ys[yr + i] = v;
                    }
                }
            });
        } else {
            double[] xs = x.storage().f64(), ys = y.storage().f64();
            double[] ws = w == null ? null : w.storage().f64(), bs = b == null ? null : b.storage().f64();
            int xo = x.offset(), wo = w == null ? 0 : w.offset(), bo = b == null ? 0 : b.offset();
            double[] stats = new double[2];
            for (int r = 0; r < rows.count; r++) {
                int xr = xo + r * n, yr = r * n;
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
    private static Strided backward(Strided[] in, Attrs a, TensorType out) {
        DType t = out.dtype();
        Strided x = Copy.denseOf(in[0], t), g = Copy.denseOf(in[1], t), w = in.length > 2 ? Copy.denseOf(in[2], t) : null;
        Rows rows = Rows.of(x, a);
        double eps = a.getFloat("eps");
        boolean wrtX = a.getString("wrt").equals("x");
        Strided result = Strided.allocate(t, out.concreteShape());
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
            double[] stats = new double[2];
            for (int r = from; r < to; r++) {
                int xr = xo + r * n, gr = go + r * n, dr = r * n;
                stats(xs, xr, n, eps, stats);
                float mean = (float) stats[0], rstd = (float) stats[1];
                double sumG0 = 0, sumG1 = 0, sumGx0 = 0, sumGx1 = 0;
                int i = 0;
                for (; i + 1 < n; i += 2) {
                    float g0 = ws == null ? gs[gr + i] : gs[gr + i] * ws[wo + i], g1 = ws == null ? gs[gr + i + 1] : gs[gr + i + 1] * ws[wo + i + 1];
                    sumG0 += g0;
                    sumG1 += g1;
                    sumGx0 += g0 * ((xs[xr + i] - mean) * rstd);
                    sumGx1 += g1 * ((xs[xr + i + 1] - mean) * rstd);
                }
                for (; i < n; i++) {
                    float g0 = ws == null ? gs[gr + i] : gs[gr + i] * ws[wo + i];
                    sumG0 += g0;
                    sumGx0 += g0 * ((xs[xr + i] - mean) * rstd);
                }
                float meanG = (float) ((sumG0 + sumG1) / n), meanGx = (float) ((sumGx0 + sumGx1) / n);
                for (i = 0; i < n; i++) {
                    float gw = ws == null ? gs[gr + i] : gs[gr + i] * ws[wo + i];
                    float xhat = (xs[xr + i] - mean) * rstd;
                    ds[dr + i] = rstd * (gw - meanG - xhat * meanGx);
                }
            }
        });
    }

    private static void weightGradFloat(Strided x, Strided g, Rows rows, double eps, Strided dw) {
        float[] xs = x.storage().f32(), gs = g.storage().f32(), ds = dw.storage().f32();
        int xo = x.offset(), go = g.offset(), n = rows.n;
        double[][] partial = new double[BatchSplit.chunks(rows.count)][n];
        BatchSplit.run(rows.count, 8L * n, (chunk, from, to) -> {
            double[] stats = new double[2], acc = partial[chunk];
            for (int r = from; r < to; r++) {
                int xr = xo + r * n, gr = go + r * n;
                stats(xs, xr, n, eps, stats);
                float mean = (float) stats[0], rstd = (float) stats[1];
                for (int i = 0; i < n; i++) acc[i] += gs[gr + i] * ((xs[xr + i] - mean) * rstd);
            }
        });
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (double[] p : partial) s += p[i];
            ds[i] = (float) s;
        }
    }

    private static void inputGradDouble(Strided x, Strided g, Strided w, Rows rows, double eps, Strided dx) {
        double[] xs = x.storage().f64(), gs = g.storage().f64(), ws = w == null ? null : w.storage().f64(), ds = dx.storage().f64();
        int xo = x.offset(), go = g.offset(), wo = w == null ? 0 : w.offset(), n = rows.n;
        double[] stats = new double[2];
        for (int r = 0; r < rows.count; r++) {
            int xr = xo + r * n, gr = go + r * n, dr = r * n;
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
        double[] stats = new double[2];
        for (int r = 0; r < rows.count; r++) {
            int xr = xo + r * n, gr = go + r * n;
            stats(xs, xr, n, eps, stats);
            for (int i = 0; i < n; i++) ds[i] += gs[gr + i] * (xs[xr + i] - stats[0]) * stats[1];
        }
    }

    /** stats = {mean, 1 / sqrt(biased variance + eps)} of x[o, o + n), summed in double over four chains. */
    static void stats(float[] x, int o, int n, double eps, double[] stats) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += x[o + i];
            s1 += x[o + i + 1];
            s2 += x[o + i + 2];
            s3 += x[o + i + 3];
        }
        for (; i < n; i++) s0 += x[o + i];
        double mean = ((s0 + s1) + (s2 + s3)) / n;
        double v0 = 0, v1 = 0, v2 = 0, v3 = 0;
        for (i = 0; i + 3 < n; i += 4) {
            double d0 = x[o + i] - mean, d1 = x[o + i + 1] - mean, d2 = x[o + i + 2] - mean, d3 = x[o + i + 3] - mean;
            v0 += d0 * d0;
            v1 += d1 * d1;
            v2 += d2 * d2;
            v3 += d3 * d3;
        }
        for (; i < n; i++) {
            double d = x[o + i] - mean;
            v0 += d * d;
        }
        stats[0] = mean;
        stats[1] = 1.0 / Math.sqrt(((v0 + v1) + (v2 + v3)) / n + eps);
    }

    /** As {@link #stats(float[], int, int, double, double[])} for float64 rows, one chain each. */
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
