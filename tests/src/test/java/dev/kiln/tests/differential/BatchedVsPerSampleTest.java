package dev.kiln.tests.differential;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.CrossEntropyOptions;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.nn.functional.Reduction;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every op with a batch dimension, run on a whole batch, must equal the same op run on each
 * sample alone: forward, input gradient and parameter gradients (the batch's parameter gradient
 * is the sum of the per-sample ones). Kernels split batches into blocks and thread chunks and
 * reuse scratch buffers between them, so bugs hide at the sizes where those splits change
 * (conv2d was wrong from batch 49 on while every fixture used batch 6 or less). The per-sample
 * reference runs in float64 one sample at a time, where no batch is split at all.
 */
class BatchedVsPerSampleTest {
    /** Around every power of two and block boundary the kernels use, up to 257. */
    static final int[] BATCHES = {1, 2, 7, 31, 49, 63, 64, 65, 100, 127, 128, 257};
    /** The costly layers are run at a sample of the sizes that still crosses each boundary. */
    static final int[] FEWER_BATCHES = {1, 7, 63, 65, 128, 257};

    /** One layer: sample shape, parameter shapes, and the op applied to (x, params). */
    record Layer(String name, int[] sample, int[][] params, BiFunction<Tensor, Tensor[], Tensor> fn, int[] batches, boolean indexInput) {
        Layer(String name, int[] sample, int[][] params, BiFunction<Tensor, Tensor[], Tensor> fn, int[] batches) {
            this(name, sample, params, fn, batches, false);
        }
    }

    private static int[] ints(int... v) { return v; }

    static List<Layer> layers() {
        List<Layer> l = new ArrayList<>();
        int[] one = {1, 1}, zero = {0, 0};
        // LeNet's convolutions and the shapes of the reported failures
        l.add(new Layer("lenet conv1 5x5 pad 2", ints(1, 28, 28), new int[][] {{6, 1, 5, 5}, {6}},
                (x, p) -> F.conv2d(x, p[0], p[1], one, new int[] {2, 2}, one, 1), BATCHES));
        l.add(new Layer("lenet conv2 5x5", ints(6, 14, 14), new int[][] {{16, 6, 5, 5}, {16}},
                (x, p) -> F.conv2d(x, p[0], p[1], one, zero, one, 1), FEWER_BATCHES));
        l.add(new Layer("resnet 3x3 stride 2 16->32 on 17x17", ints(16, 17, 17), new int[][] {{32, 16, 3, 3}},
                (x, p) -> F.conv2d(x, p[0], null, new int[] {2, 2}, one, one, 1), FEWER_BATCHES));
        l.add(new Layer("grouped 3x3 groups 4 pad 1", ints(8, 9, 9), new int[][] {{12, 2, 3, 3}, {12}},
                (x, p) -> F.conv2d(x, p[0], p[1], one, one, one, 4), FEWER_BATCHES));
        l.add(new Layer("dilated 3x3 dilation 2 pad 2", ints(3, 12, 12), new int[][] {{5, 3, 3, 3}},
                (x, p) -> F.conv2d(x, p[0], null, one, new int[] {2, 2}, new int[] {2, 2}, 1), FEWER_BATCHES));
        l.add(new Layer("conv_transpose2d 3x3 stride 2 pad 1", ints(4, 7, 7), new int[][] {{4, 3, 3, 3}, {3}},
                (x, p) -> F.convTranspose2d(x, p[0], p[1], new int[] {2, 2}, one, one, 1, one), BATCHES));
        l.add(new Layer("conv1d k3 pad 1", ints(4, 20), new int[][] {{6, 4, 3}, {6}},
                (x, p) -> F.conv1d(x, p[0], p[1], 1, 1, 1, 1), FEWER_BATCHES));
        // pools
        l.add(new Layer("max_pool2d 2x2", ints(6, 28, 28), new int[0][], (x, p) -> F.maxPool2d(x, 2), BATCHES));
        l.add(new Layer("max_pool2d 3x3 stride 2 pad 1", ints(3, 11, 11), new int[0][],
                (x, p) -> F.maxPool2d(x, new int[] {3, 3}, new int[] {2, 2}, one, one, false), FEWER_BATCHES));
        l.add(new Layer("avg_pool2d 2x2", ints(6, 14, 14), new int[0][], (x, p) -> F.avgPool2d(x, 2), FEWER_BATCHES));
        l.add(new Layer("adaptive_avg_pool2d 3x3", ints(4, 10, 10), new int[0][], (x, p) -> F.adaptiveAvgPool2d(x, new int[] {3, 3}), FEWER_BATCHES));
        // norms (batch norm with running statistics: per-sample, as at inference)
        l.add(new Layer("batch_norm eval", ints(5, 6, 6), new int[][] {{5}, {5}},
                (x, p) -> F.batchNorm(x, Tensor.zeros(5).to(x.dtype()).add(0.25), Tensor.ones(5).to(x.dtype()).mul(2.0), p[0], p[1], false, 0.1, 1e-5), FEWER_BATCHES));
        l.add(new Layer("layer_norm", ints(7, 33), new int[][] {{33}, {33}},
                (x, p) -> F.layerNorm(x, new int[] {33}, p[0], p[1], 1e-5), BATCHES));
        l.add(new Layer("group_norm 3 groups", ints(6, 5, 5), new int[][] {{6}, {6}},
                (x, p) -> F.groupNorm(x, 3, p[0], p[1], 1e-5), FEWER_BATCHES));
        // linear layers: the GEMM changes paths with the row count (dot products up to a size, packed beyond)
        l.add(new Layer("linear 784->120", ints(784), new int[][] {{120, 784}, {120}}, (x, p) -> F.linear(x, p[0], p[1]), BATCHES));
        l.add(new Layer("linear 3-d 10->7", ints(3, 10), new int[][] {{7, 10}, {7}}, (x, p) -> F.linear(x, p[0], p[1]), FEWER_BATCHES));
        l.add(new Layer("softmax + log_softmax", ints(3, 10), new int[0][], (x, p) -> x.softmax(-1).add(x.logSoftmax(1)), FEWER_BATCHES));
        // losses, unreduced so each sample's share stays its own
        l.add(new Layer("cross_entropy none", ints(10), new int[0][],
                (x, p) -> F.crossEntropy(x, labels(x), CrossEntropyOptions.DEFAULT.withReduction(Reduction.NONE)), BATCHES));
        l.add(new Layer("mse none", ints(9), new int[0][], (x, p) -> F.mseLoss(x, x.mul(0.0).add(0.5), Reduction.NONE), FEWER_BATCHES));
        l.add(new Layer("smooth_l1 none", ints(9), new int[0][], (x, p) -> F.smoothL1Loss(x, x.mul(0.0).add(0.3), Reduction.NONE, 0.5), FEWER_BATCHES));
        l.add(new Layer("bce_with_logits none", ints(9), new int[0][],
                (x, p) -> F.binaryCrossEntropyWithLogits(x, x.mul(0.0).add(0.7), null, null, Reduction.NONE), FEWER_BATCHES));
        // an embedding lookup: the batch holds indices, the gradient goes to the table
        l.add(new Layer("embedding 50x16", ints(5), new int[][] {{50, 16}}, (x, p) -> F.embedding(x, p[0]), BATCHES, true));
        return l;
    }

    /** Class labels that depend only on each sample's own values. */
    private static Tensor labels(Tensor logits) { return logits.detach().argmax(-1, false); }

    @TestFactory
    Stream<DynamicTest> batchedEqualsPerSample() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Layer layer : layers()) {
            for (int n : layer.batches()) tests.add(DynamicTest.dynamicTest(layer.name() + " batch " + n, () -> check(layer, n)));
        }
        return tests.stream();
    }

    private static int[] withBatch(int n, int[] sample) {
        int[] s = new int[sample.length + 1];
        s[0] = n;
        System.arraycopy(sample, 0, s, 1, sample.length);
        return s;
    }

    static void check(Layer layer, int n) {
        Kiln.manualSeed(1000L + n);
        Tensor x = layer.indexInput() ? Tensor.randint(0, layer.params()[0][0], withBatch(n, layer.sample()))
                : Tensor.randn(withBatch(n, layer.sample())).requiresGrad(true);
        Tensor[] p = new Tensor[layer.params().length];
        for (int i = 0; i < p.length; i++) p[i] = Tensor.randn(layer.params()[i]).mul(0.3).detach().requiresGrad(true);
        Tensor out = layer.fn().apply(x, p);
        Tensor w = Tensor.randn(out.shape());
        out.mul(w).sum().backward();

        float[] outB = out.detach().contiguous().toFloatArray();
        float[] gxB = layer.indexInput() ? null : x.grad().contiguous().toFloatArray();
        int outPer = outB.length / n, xPer = x.numel() / n;
        double[][] pSum = new double[p.length][];
        for (int i = 0; i < p.length; i++) pSum[i] = new double[p[i].numel()];
        for (int s = 0; s < n; s++) {
            Tensor xs = x.detach().narrow(0, s, 1).contiguous();
            if (!layer.indexInput()) xs = xs.to(DType.FLOAT64).detach().requiresGrad(true);
            Tensor[] ps = new Tensor[p.length];
            for (int i = 0; i < p.length; i++) ps[i] = p[i].detach().to(DType.FLOAT64).detach().requiresGrad(true);
            Tensor os = layer.fn().apply(xs, ps);
            os.mul(w.narrow(0, s, 1).to(DType.FLOAT64)).sum().backward();
            double[] o = os.detach().contiguous().toDoubleArray();
            assertEquals(outPer, o.length, layer.name() + ": per-sample output size");
            for (int j = 0; j < outPer; j++) close(layer, n, "output of sample " + s + " at " + j, o[j], outB[s * outPer + j]);
            if (!layer.indexInput()) {
                double[] g = xs.grad().contiguous().toDoubleArray();
                for (int j = 0; j < xPer; j++) close(layer, n, "input gradient of sample " + s + " at " + j, g[j], gxB[s * xPer + j]);
            }
            for (int i = 0; i < p.length; i++) {
                double[] g = ps[i].grad().contiguous().toDoubleArray();
                for (int j = 0; j < g.length; j++) pSum[i][j] += g[j];
            }
        }
        for (int i = 0; i < p.length; i++) {
            float[] g = p[i].grad().contiguous().toFloatArray();
            double scale = 0;
            for (double v : pSum[i]) scale = Math.max(scale, Math.abs(v));
            // a batch sum of float32 terms: the error grows with the batch and the largest entry
            double tol = 1e-5 * scale * Math.sqrt(n) + 1e-4;
            for (int j = 0; j < g.length; j++) {
                int i0 = i, j0 = j;
                assertTrue(Math.abs(g[j] - pSum[i][j]) <= tol, () -> layer.name() + " at batch " + n + ": gradient of parameter " + i0
                        + " at " + j0 + " is " + g[j0] + ", the sum over samples gives " + pSum[i0][j0]);
            }
        }
    }

    private static void close(Layer layer, int n, String what, double want, float got) {
        double tol = 2e-4 * Math.max(1, Math.abs(want));
        if (!(Math.abs(want - got) <= tol)) {
            throw new AssertionError(layer.name() + " at batch " + n + ": " + what + " is " + got + ", the sample alone gives " + want);
        }
    }
}
