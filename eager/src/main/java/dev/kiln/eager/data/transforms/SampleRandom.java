package dev.kiln.eager.data.transforms;

import dev.kiln.eager.random.Generator;

/**
 * The random stream of one sample's augmentation: a counter over a seed, like the global
 * Generator, but private to the sample so parallel workers cannot interleave draws.
 * Not thread-safe; each sample gets its own.
 */
public final class SampleRandom {
    private final long seed;
    private long counter;

    public SampleRandom(long seed) { this.seed = seed; }

    /** Uniform in [0, 1). */
    public double nextUniform() { return Generator.uniform(seed, counter++); }

    /** Uniform integer in [0, bound). */
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("nextInt: bound must be positive, got " + bound);
        return (int) Math.floorMod(Generator.bits(seed, counter++) >>> 1, (long) bound);
    }
}
