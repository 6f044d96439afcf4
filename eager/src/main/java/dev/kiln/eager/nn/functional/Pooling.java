package dev.kiln.eager.nn.functional;

import dev.kiln.backend.op.NnShapeRules;
import dev.kiln.eager.Tensor;

/**
 * Pools composed from primitives: max = gather at max_pool2d_indices, average = depthwise
 * conv2d with a ones kernel divided by a constant divisor map, adaptive average = two small
 * averaging matrices. Their gradients come from gather, conv2d and matmul.
 */
final class Pooling {
    private Pooling() {}

    static Tensor maxPool2d(Tensor x, int[] k, int[] s, int[] p, int[] d, boolean ceil) {
        // inference (a traced eval graph, an eager no-grad call): one kernel; with a gradient to
        // come, the indices and a gather, whose gradient is the scatter of the rule table
        if (!x.requiresGrad() || !dev.kiln.eager.autograd.GradMode.isEnabled()) return NnPrimitives.maxPool2d(x, k, s, p, d, ceil);
        Tensor idx = NnPrimitives.maxPool2dIndices(x, k, s, p, d, ceil);
        return x.flatten(2).gather(2, idx.flatten(2)).reshapeAs(idx);
    }

    static Tensor avgPool2d(Tensor x, int[] k, int[] s, int[] p, boolean ceil, boolean countIncludePad) {
        int c = x.shape(1), h = x.shape(2), w = x.shape(3);
        for (int i = 0; i < 2; i++) {
            if (p[i] > k[i] / 2) throw new IllegalArgumentException("avgPool2d: padding " + p[i] + " must be at most half the kernel size " + k[i]);
        }
        int ho = NnShapeRules.windowCount(h, k[0], s[0], p[0], 1, ceil), wo = NnShapeRules.windowCount(w, k[1], s[1], p[1], 1, ceil);
        if (ho <= 0 || wo <= 0) throw new IllegalArgumentException("avgPool2d: input " + x.typeString() + " is smaller than the kernel");
        // ceil-mode windows may run past the padded input: pad zeros so the conv sees them whole
        int extraH = Math.max(0, (ho - 1) * s[0] + k[0] - (h + 2 * p[0])), extraW = Math.max(0, (wo - 1) * s[1] + k[1] - (w + 2 * p[1]));
        Tensor padded = x.pad(p[1], p[1] + extraW, p[0], p[0] + extraH);
        Tensor ones = Tensor.ones(x.dtype(), c, 1, k[0], k[1]);
        int[] one = {1, 1}, zero = {0, 0};
        Tensor sums = NnPrimitives.conv2d(padded, ones, null, s, zero, one, c);
        return sums.div(divisors(h, w, ho, wo, k, s, p, countIncludePad).to(x.dtype()));
    }

    /** PyTorch's divisor per window: the window clipped to the padded input, or to the input alone. */
    private static Tensor divisors(int h, int w, int ho, int wo, int[] k, int[] s, int[] p, boolean countIncludePad) {
        double[] div = new double[ho * wo];
        for (int i = 0; i < ho; i++) {
            int h0 = i * s[0] - p[0], h1 = Math.min(h0 + k[0], h + p[0]);
            for (int j = 0; j < wo; j++) {
                int w0 = j * s[1] - p[1], w1 = Math.min(w0 + k[1], w + p[1]);
                int withPad = (h1 - h0) * (w1 - w0);
                int inside = (Math.min(h1, h) - Math.max(h0, 0)) * (Math.min(w1, w) - Math.max(w0, 0));
                div[i * wo + j] = countIncludePad ? withPad : inside;
            }
        }
        return Tensor.of(div, ho, wo);
    }

    static Tensor adaptiveAvgPool2d(Tensor x, int oh, int ow) {
        int h = x.shape(-2), w = x.shape(-1);
        if (oh <= 0 || ow <= 0) throw new IllegalArgumentException("adaptiveAvgPool2d: output size must be positive, got " + oh + "x" + ow);
        Tensor rows = averaging(h, oh).to(x.dtype()), cols = averaging(w, ow).to(x.dtype()).t();
        return rows.matmul(x).matmul(cols);
    }

    /** [out x in] matrix averaging the adaptive windows [floor(i*in/out), ceil((i+1)*in/out)). */
    private static Tensor averaging(int in, int out) {
        double[] m = new double[out * in];
        for (int i = 0; i < out; i++) {
            int a = (int) ((long) i * in / out), b = (int) (((long) (i + 1) * in + out - 1) / out);
            for (int j = a; j < b; j++) m[i * in + j] = 1.0 / (b - a);
        }
        return Tensor.of(m, out, in);
    }
}
