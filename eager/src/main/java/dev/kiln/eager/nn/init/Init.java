package dev.kiln.eager.nn.init;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.random.Generator;

/**
 * In-place initializers as torch.nn.init, drawing from the default generator so
 * {@code Kiln.manualSeed} makes model initialization reproducible. They write under no-grad,
 * so they work on parameters that require grad.
 */
public final class Init {
    private Init() {}

    private static Tensor write(Tensor t, double[] values) {
        try (var ng = Autograd.noGrad()) {
            t.copy_(Tensor.of(values, t.shape()));
        }
        return t;
    }

    public static Tensor uniform_(Tensor t, double lo, double hi) { return write(t, Generator.defaultGenerator().uniform(t.numel(), lo, hi)); }

    public static Tensor normal_(Tensor t, double mean, double std) { return write(t, Generator.defaultGenerator().normal(t.numel(), mean, std)); }

    public static Tensor constant_(Tensor t, double v) {
        try (var ng = Autograd.noGrad()) {
            return t.fill_(v);
        }
    }

    public static Tensor zeros_(Tensor t) { return constant_(t, 0); }

    public static Tensor ones_(Tensor t) { return constant_(t, 1); }

    /** {fan_in, fan_out}: dim 1 and dim 0 times the receptive field (the product of the remaining dims). */
    public static int[] fanInAndFanOut(Tensor t) {
        if (t.dim() < 2) throw new IllegalArgumentException("fan in and fan out need a tensor with at least 2 dims, got " + t.typeString());
        int receptive = 1;
        for (int i = 2; i < t.dim(); i++) receptive *= t.shape(i);
        return new int[] {t.shape(1) * receptive, t.shape(0) * receptive};
    }

    /** torch.nn.init.calculate_gain for linear/conv/sigmoid (1), tanh (5/3), relu (sqrt 2), leaky_relu (sqrt(2/(1+a^2))), selu (3/4). */
    public static double calculateGain(String nonlinearity, double param) {
        return switch (nonlinearity) {
            case "linear", "conv1d", "conv2d", "conv_transpose2d", "sigmoid" -> 1.0;
            case "tanh" -> 5.0 / 3;
            case "relu" -> Math.sqrt(2.0);
            case "leaky_relu" -> Math.sqrt(2.0 / (1 + param * param));
            case "selu" -> 0.75;
            default -> throw new IllegalArgumentException("calculateGain: unsupported nonlinearity '" + nonlinearity + "'");
        };
    }

    public static Tensor xavierUniform_(Tensor t, double gain) {
        int[] f = fanInAndFanOut(t);
        double a = gain * Math.sqrt(6.0 / (f[0] + f[1]));
        return uniform_(t, -a, a);
    }

    public static Tensor xavierNormal_(Tensor t, double gain) {
        int[] f = fanInAndFanOut(t);
        return normal_(t, 0, gain * Math.sqrt(2.0 / (f[0] + f[1])));
    }

    private static int fan(Tensor t, String mode) {
        int[] f = fanInAndFanOut(t);
        return switch (mode) {
            case "fan_in" -> f[0];
            case "fan_out" -> f[1];
            default -> throw new IllegalArgumentException("kaiming init: mode must be 'fan_in' or 'fan_out', got '" + mode + "'");
        };
    }

    /** bound = gain * sqrt(3 / fan); PyTorch's Linear/Conv default is a = sqrt(5), fan_in, leaky_relu. */
    public static Tensor kaimingUniform_(Tensor t, double a, String mode, String nonlinearity) {
        double bound = calculateGain(nonlinearity, a) * Math.sqrt(3.0 / fan(t, mode));
        return uniform_(t, -bound, bound);
    }

    public static Tensor kaimingNormal_(Tensor t, double a, String mode, String nonlinearity) {
        return normal_(t, 0, calculateGain(nonlinearity, a) / Math.sqrt(fan(t, mode)));
    }
}
