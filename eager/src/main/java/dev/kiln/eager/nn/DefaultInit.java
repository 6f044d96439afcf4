package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.init.Init;

/** PyTorch's default initialization of Linear and convolution layers. */
final class DefaultInit {
    private DefaultInit() {}

    /** Kaiming-uniform with a = sqrt(5) (bound 1/sqrt(fan_in)) for the weight, uniform(+-1/sqrt(fan_in)) for the bias. */
    static void weightAndBias(Tensor weight, Tensor bias) {
        Init.kaimingUniform_(weight, Math.sqrt(5), "fan_in", "leaky_relu");
        if (bias != null) {
            int fanIn = Init.fanInAndFanOut(weight)[0];
            double b = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
            Init.uniform_(bias, -b, b);
        }
    }

    static String pair(int[] v) { return "(" + v[0] + ", " + v[1] + ")"; }
}
