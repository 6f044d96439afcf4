package dev.kiln.eager.data.transforms;

import dev.kiln.eager.Tensor;

/** Mirrors the last dim with probability p. */
public final class RandomHorizontalFlip implements Transform {
    private final double p;

    public RandomHorizontalFlip() { this(0.5); }

    public RandomHorizontalFlip(double p) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("RandomHorizontalFlip: p must be in [0, 1], got " + p);
        this.p = p;
    }

    @Override
    public Tensor apply(Tensor x, SampleRandom random) {
        if (x.dim() < 1) throw new IllegalArgumentException("RandomHorizontalFlip: expected an image, got " + x.typeString());
        // Always draw, so later transforms see the same stream whether or not this one flips.
        return random.nextUniform() < p ? x.flip(x.dim() - 1) : x;
    }
}
