package dev.kiln.eager.data.transforms;

import dev.kiln.eager.Tensor;

/** (x - mean[c]) / std[c] per channel of a [C, H, W] image. */
public final class Normalize implements Transform {
    private final double[] mean;
    private final double[] std;

    public Normalize(double[] mean, double[] std) {
        if (mean.length == 0 || mean.length != std.length) {
            throw new IllegalArgumentException("Normalize: mean and std need one value per channel, got " + mean.length + " and " + std.length);
        }
        for (int i = 0; i < std.length; i++) {
            if (!(std[i] > 0)) throw new IllegalArgumentException("Normalize: std[" + i + "] must be positive, got " + std[i]);
        }
        this.mean = mean.clone();
        this.std = std.clone();
    }

    @Override
    public Tensor apply(Tensor x, SampleRandom random) {
        if (x.dim() != 3) throw new IllegalArgumentException("Normalize: expected a [C, H, W] image, got " + x.typeString());
        if (x.shape(0) != mean.length) {
            throw new IllegalArgumentException("Normalize: image has " + x.shape(0) + " channels (" + x.typeString() + "), mean/std have " + mean.length);
        }
        if (!x.dtype().isFloatingPoint()) throw new IllegalArgumentException("Normalize: expected a floating-point image, got " + x.typeString());
        float[] m = new float[mean.length], s = new float[std.length];
        for (int i = 0; i < m.length; i++) {
            m[i] = (float) mean[i];
            s[i] = (float) std[i];
        }
        Tensor mt = Tensor.of(m, m.length, 1, 1).to(x.dtype()), st = Tensor.of(s, s.length, 1, 1).to(x.dtype());
        return x.sub(mt).div(st);
    }
}
