package dev.kiln.eager.nn.functional;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import java.util.Arrays;

/** Batch, layer and group normalization as compositions of primitives. */
final class Norms {
    private Norms() {}

    private static int[] channelShape(Tensor x) {
        int[] s = new int[x.dim()];
        Arrays.fill(s, 1);
        s[1] = x.shape(1);
        return s;
    }

    private static int[] allBut1(int rank) {
        int[] d = new int[rank - 1];
        d[0] = 0;
        for (int i = 2; i < rank; i++) d[i - 1] = i;
        return d;
    }

    static Tensor batchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                            boolean training, double momentum, double eps) {
        if (x.dim() < 2) throw new IllegalArgumentException("batchNorm: expected input with at least 2 dims [N, C, ...], got " + x.typeString());
        int[] dims = allBut1(x.dim()), cs = channelShape(x);
        int c = x.shape(1);
        Tensor mean, var;
        if (training) {
            long n = x.data().numel() / Math.max(c, 1); // validation only
            if (n <= 1) throw new IllegalArgumentException("batchNorm: expected more than 1 value per channel when training, got input " + x.typeString());
            mean = x.mean(dims, true);
            var = x.var(dims, 0, true);
            if (runningMean != null && runningVar != null) {
                try (var ng = Autograd.noGrad()) {
                    runningMean.mul_(1 - momentum).add_(mean.detach().reshape(c).mul(momentum));
                    // the unbiased factor n / (n - 1) from the run-time size, so a traced step with a
                    // symbolic batch does not bake in this batch's n
                    Tensor nt = x.size(dims).to(var.dtype());
                    runningVar.mul_(1 - momentum).add_(var.detach().reshape(c).mul(nt.div(nt.sub(1L))).mul(momentum));
                }
            }
        } else {
            if (runningMean == null || runningVar == null) {
                throw new IllegalArgumentException("batchNorm: evaluation needs running mean and variance (or use training statistics)");
            }
            mean = runningMean.reshape(cs);
            var = runningVar.reshape(cs);
        }
        Tensor y = x.sub(mean).mul(var.add(eps).rsqrt());
        if (weight != null) y = y.mul(weight.reshape(cs));
        if (bias != null) y = y.add(bias.reshape(cs));
        return y;
    }

    static Tensor layerNorm(Tensor x, int[] normalizedShape, Tensor weight, Tensor bias, double eps) {
        int k = normalizedShape.length, r = x.dim();
        int[] tail = r >= k ? Arrays.copyOfRange(x.data().shape(), r - k, r) : null; // validation against normalizedShape
        if (!Arrays.equals(tail, normalizedShape)) {
            throw new IllegalArgumentException("layerNorm: normalized shape " + Arrays.toString(normalizedShape) + " does not match the last dims of "
                    + x.typeString());
        }
        if (k == 0) throw new IllegalArgumentException("layerNorm: the normalized shape is empty; it names the last dims of the input to normalize");
        if (!fusable(x, normalizedShape, weight) || !fusable(x, normalizedShape, bias)) {
            // composite: on a device (the CUDA backend has no layer_norm kernel, its composite
            // runs there), and for a weight or bias the op does not take (another dtype, or a
            // shape that only broadcasts: ONNX models), as before the op existed
            int[] dims = new int[k];
            for (int i = 0; i < k; i++) dims[i] = r - k + i;
            Tensor y = x.sub(x.mean(dims, true)).mul(x.var(dims, 0, true).add(eps).rsqrt());
            if (weight != null) y = y.mul(weight);
            return bias == null ? y : y.add(bias);
        }
        // the fused op; a bias without a weight is added after it (the op takes the weight first)
        Tensor y = NnPrimitives.layerNorm(x, k, weight, weight == null ? null : bias, eps);
        return weight == null && bias != null ? y.add(bias) : y;
    }

    /**
     * Whether the layer_norm op takes x with this weight or bias (null: none): on the CPU, of x's
     * dtype, and of the normalized shape, or of a shape that does not even broadcast to x (the
     * op's shape rule then names the problem).
     */
    private static boolean fusable(Tensor x, int[] normalizedShape, Tensor affine) {
        if (!x.device().isCpu() || !x.dtype().isFloatingPoint()) return false;
        if (affine == null) return true;
        if (affine.dtype() != x.dtype() || !affine.device().isCpu()) return false;
        int[] s = affine.data().shape();
        return Arrays.equals(s, normalizedShape) || !broadcastsTo(s, x.data().shape());
    }

    private static boolean broadcastsTo(int[] s, int[] target) {
        if (s.length > target.length) return false;
        for (int i = 1; i <= s.length; i++) {
            int a = s[s.length - i], b = target[target.length - i];
            if (a != b && a != 1) return false;
        }
        return true;
    }

    static Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, double eps) {
        if (x.dim() < 2 || x.shape(1) % groups != 0) {
            throw new IllegalArgumentException("groupNorm: expected input [N, C, ...] with C divisible by " + groups + " groups, got " + x.typeString());
        }
        int per = x.shape(1) / groups;
        for (int i = 2; i < x.dim(); i++) per *= x.shape(i);
        // -1 for the batch keeps it symbolic under tracing; it cannot be inferred for empty inputs
        Tensor g = x.data().numel() == 0 ? x.reshape(x.data().shape()[0], groups, per) : x.reshape(-1, groups, per);
        int[] d = {2};
        Tensor y = g.sub(g.mean(d, true)).mul(g.var(d, 0, true).add(eps).rsqrt()).reshapeAs(x);
        int[] cs = channelShape(x);
        if (weight != null) y = y.mul(weight.reshape(cs));
        if (bias != null) y = y.add(bias.reshape(cs));
        return y;
    }
}
