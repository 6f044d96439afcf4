package dev.kiln.backend.random;

/**
 * The counter-based random function: value i of a stream is a pure function of (seed, index),
 * so kernels can fill any slice on any thread and a traced graph can replay a draw from its
 * (seed, offset) attributes alone.
 */
public final class CounterHash {
    private CounterHash() {}

    /** SplitMix64 finalizer over (seed, index): a high-quality 64-bit hash. */
    public static long bits(long seed, long index) {
        long z = seed * 0x9E3779B97F4A7C15L + (index + 1) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public static double uniform(long seed, long index) { return (bits(seed, index) >>> 11) * 0x1.0p-53; }

    /** Uniform in [0, 1) with 24 random bits: exactly representable, so never rounds up to 1.0f. */
    public static float uniformFloat(long seed, long index) { return (bits(seed, index) >>> 40) * 0x1.0p-24f; }
}
