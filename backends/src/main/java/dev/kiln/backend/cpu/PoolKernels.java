package dev.kiln.backend.cpu;

import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import java.util.Map;

/**
 * max_pool2d_indices: the argmax of each window. Max pooling is then a gather of these
 * indices in eager, so its gradient (scatter_add) and second gradient come from existing
 * rules, and a tracer records two plain ops instead of a pooling op with a private backward.
 */
final class PoolKernels {
    private PoolKernels() {}

    static void register(Map<Op, CpuKernel> k) {
        k.put(Op.MAX_POOL2D_INDICES, PoolKernels::maxIndices);
    }

    private static Strided maxIndices(Strided[] in, Attrs a, TensorType outT) {
        Strided x = Copy.denseOf(in[0], in[0].dtype());
        int[] xs = x.shape(), os = outT.concreteShape();
        int[] k = a.getInts("kernel_size"), s = a.getInts("stride"), p = a.getInts("padding"), d = a.getInts("dilation");
        int planes = xs[0] * xs[1], h = xs[2], w = xs[3], ho = os[2], wo = os[3];
        Strided out = Strided.allocate(outT.dtype(), os);
        long[] idx = out.storage().i64();
        Object xa = x.storage().array();
        BatchSplit.run(planes, (long) ho * wo * k[0] * k[1], (chunk, from, to) -> {
            for (int pl = from; pl < to; pl++) {
                int base = x.offset() + pl * h * w, o = pl * ho * wo;
                for (int i = 0; i < ho; i++) {
                    int h0 = i * s[0] - p[0];
                    for (int j = 0; j < wo; j++) {
                        int w0 = j * s[1] - p[1];
                        idx[o + i * wo + j] = xa instanceof float[] f ? argmax(f, base, h, w, h0, w0, k, d) : argmax(xa, base, h, w, h0, w0, k, d);
                    }
                }
            }
        });
        return out;
    }

    /**
     * The float32 twin of the generic argmax below: the in-bounds tap range is found once per
     * window, and the update is written without a branch (selects) because with random data
     * "is this tap the new max" is a coin flip the branch predictor loses half the time.
     */
    private static long argmax(float[] xa, int base, int h, int w, int h0, int w0, int[] k, int[] d) {
        int dh = d[0], dw = d[1];
        int kiLo = h0 >= 0 ? 0 : (-h0 + dh - 1) / dh, kiHi = Math.min(k[0], h0 >= h ? 0 : (h - 1 - h0) / dh + 1);
        int kjLo = w0 >= 0 ? 0 : (-w0 + dw - 1) / dw, kjHi = Math.min(k[1], w0 >= w ? 0 : (w - 1 - w0) / dw + 1);
        if (kiLo >= kiHi || kjLo >= kjHi) return -1;
        int best = (h0 + kiLo * dh) * w + w0 + kjLo * dw;
        float bestVal = xa[base + best];
        for (int ki = kiLo; ki < kiHi; ki++) {
            int row = (h0 + ki * dh) * w + w0;
            for (int kj = kjLo; kj < kjHi; kj++) {
                int at = row + kj * dw;
                float v = xa[base + at];
                boolean take = v > bestVal || v != v;
                best = take ? at : best;
                bestVal = take ? v : bestVal;
            }
        }
        return best;
    }

    /** PyTorch's rule: take a value when it is greater than the best so far or NaN; padding never wins. */
    private static long argmax(Object xa, int base, int h, int w, int h0, int w0, int[] k, int[] d) {
        int best = -1;
        double bestVal = Double.NEGATIVE_INFINITY;
        for (int ki = 0; ki < k[0]; ki++) {
            int r = h0 + ki * d[0];
            if (r < 0 || r >= h) continue;
            for (int kj = 0; kj < k[1]; kj++) {
                int c = w0 + kj * d[1];
                if (c < 0 || c >= w) continue;
                int at = r * w + c;
                double v = xa instanceof float[] f ? f[base + at] : ((double[]) xa)[base + at];
                if (best < 0 || v > bestVal || Double.isNaN(v)) {
                    best = at;
                    bestVal = v;
                }
            }
        }
        return best;
    }
}
