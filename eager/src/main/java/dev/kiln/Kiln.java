package dev.kiln;

import dev.kiln.backend.device.DeviceProviders;
import dev.kiln.eager.random.Generator;

/** Global entry points: seeding and backend availability. */
public final class Kiln {
    private Kiln() {}

    /** Seeds the default generator used by rand/randn/randint, dropout and initializers. */
    public static void manualSeed(long seed) { Generator.defaultGenerator().manualSeed(seed); }

    /**
     * Whether a CUDA device can be used: asks the kiln-backends-cuda module through its
     * {@link DeviceProviders provider} (false when that module is not on the class path).
     */
    public static boolean cudaAvailable() { return DeviceProviders.availability("cuda").isAvailable(); }

    /** Why CUDA cannot be used, in words (empty when it can). */
    public static String cudaUnavailableReason() {
        var a = DeviceProviders.availability("cuda");
        return a.isAvailable() ? "" : a.reason();
    }
}
