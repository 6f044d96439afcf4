package dev.kiln;

import dev.kiln.eager.random.Generator;

/** Global entry points: seeding and backend availability. */
public final class Kiln {
    private Kiln() {}

    /** Seeds the default generator used by rand/randn/randint, dropout and initializers. */
    public static void manualSeed(long seed) { Generator.defaultGenerator().manualSeed(seed); }

    /** Whether a CUDA device can be used; the CUDA backend is not part of this build yet. */
    public static boolean cudaAvailable() { return false; }
}
