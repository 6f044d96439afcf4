package dev.kiln.eager.random;

import dev.kiln.backend.random.CounterHash;

/**
 * A counter-based generator: element i of a draw is a pure function of (seed, counter + i),
 * so results never depend on how work is split between threads. The stream advances by the
 * number of values drawn.
 */
public final class Generator {
    private static final Generator DEFAULT = new Generator(0x5EEDL);

    private long seed;
    private long counter;

    public Generator(long seed) { manualSeed(seed); }

    public static Generator defaultGenerator() { return DEFAULT; }

    public synchronized void manualSeed(long seed) {
        this.seed = seed;
        this.counter = 0;
    }

    /** (seed, counter) so a checkpoint can restore the stream exactly. */
    public synchronized long[] state() { return new long[] {seed, counter}; }

    public synchronized void setState(long[] s) {
        seed = s[0];
        counter = s[1];
    }

    /** Reserves n counters and returns the first. */
    public synchronized long reserve(long n) {
        long c = counter;
        counter += n;
        return c;
    }

    public long seed() { return seed; }

    /** SplitMix64 finalizer over (seed, index); the one definition lives in backends so kernels share it. */
    public static long bits(long seed, long index) { return CounterHash.bits(seed, index); }

    /** Uniform in [0, 1) with 53 random bits. */
    public static double uniform(long seed, long index) { return (bits(seed, index) >>> 11) * 0x1.0p-53; }

    /** Standard normal by Box-Muller on two counters; index selects a value. */
    public static double normal(long seed, long index) {
        double u1 = 1.0 - uniform(seed, 2 * index);
        double u2 = uniform(seed, 2 * index + 1);
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** Fills {@code n} uniforms in [lo, hi). */
    public double[] uniform(int n, double lo, double hi) {
        long base = reserve(n);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = lo + (hi - lo) * uniform(seed, base + i);
        return out;
    }

    public double[] normal(int n, double mean, double std) {
        long base = reserve(n);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = mean + std * normal(seed, base + i);
        return out;
    }

    /** Integers uniform in [lo, hi). */
    public long[] integers(int n, long lo, long hi) {
        if (hi <= lo) throw new IllegalArgumentException("randint: high (" + hi + ") must be greater than low (" + lo + ")");
        long base = reserve(n);
        long range = hi - lo;
        long[] out = new long[n];
        for (int i = 0; i < n; i++) out[i] = lo + Math.floorMod(bits(seed, base + i) >>> 1, range);
        return out;
    }

    /** A random permutation of 0..n-1 (Fisher-Yates driven by the counter stream). */
    public int[] permutation(int n) {
        long base = reserve(n);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = (int) Math.floorMod(bits(seed, base + i) >>> 1, (long) i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
