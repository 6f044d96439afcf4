package dev.kiln.benchmarks.jmh;

import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.nn.functional.NnPrimitives;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * Convolution layers, float32, the three kernels a training step runs: {@code forward}
 * (conv2d), {@code inputGrad} (conv_transpose2d of the output gradient: conv2d's dx) and
 * {@code weightGrad} (conv2d_weight_grad: dw). Each does 2·N·Cout·Ho·Wo·Cin·kh·kw flops, so
 * GFLOP/s = ops/s × that / 1e9 (table in docs/benchmarks.md). {@code maxPool} is the 2x2
 * max pooling that follows the LeNet layers (indices and gather, as {@code F.maxPool2d}). No
 * input requires grad, so nothing is recorded.
 *
 * <p>Layers: LeNet's two ({@code lenet1}: [64,1,28,28] * [6,1,5,5] padding 2; {@code lenet2}:
 * [64,6,14,14] * [16,6,5,5]) and a ResNet basic block's 3x3 ({@code resnet3x3}: [8,64,56,56] *
 * [64,64,3,3] padding 1).
 */
public class ConvBench extends KilnBenchmark {
    @Param({"lenet1", "lenet2", "resnet3x3"})
    public String layer;

    private Tensor x;
    private Tensor w;
    private Tensor gradOut;
    private int[] padding;
    private int[] kernel;
    private static final int[] ONE = {1, 1};

    @Setup
    public void setup() {
        Kiln.manualSeed(0);
        int[] xs, ws;
        switch (layer) {
            case "lenet1" -> { xs = new int[] {64, 1, 28, 28}; ws = new int[] {6, 1, 5, 5}; padding = new int[] {2, 2}; }
            case "lenet2" -> { xs = new int[] {64, 6, 14, 14}; ws = new int[] {16, 6, 5, 5}; padding = new int[] {0, 0}; }
            case "resnet3x3" -> { xs = new int[] {8, 64, 56, 56}; ws = new int[] {64, 64, 3, 3}; padding = new int[] {1, 1}; }
            default -> throw new IllegalArgumentException("unknown layer " + layer);
        }
        x = Tensor.randn(xs);
        w = Tensor.randn(ws);
        kernel = new int[] {ws[2], ws[3]};
        gradOut = Tensor.randn(forward().shape());
    }

    @Benchmark
    public Tensor forward() { return NnPrimitives.conv2d(x, w, null, ONE, padding, ONE, 1); }

    @Benchmark
    public Tensor inputGrad() { return NnPrimitives.convTranspose2d(gradOut, w, null, ONE, padding, new int[] {0, 0}, ONE, 1); }

    @Benchmark
    public Tensor weightGrad() { return NnPrimitives.conv2dWeightGrad(x, gradOut, kernel, ONE, padding, ONE, 1); }

    @Benchmark
    public Tensor maxPool() { return F.maxPool2d(x, 2); }
}
