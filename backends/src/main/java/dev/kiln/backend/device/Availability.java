package dev.kiln.backend.device;

/**
 * The answer to "can this device kind be used here?": a device count, and when it is zero,
 * the reason in words a user can act on (missing driver, no GPU, module not on class path).
 */
public record Availability(int deviceCount, String reason) {

    public static Availability available(int deviceCount) {
        if (deviceCount <= 0) throw new IllegalArgumentException("an available device kind needs at least one device");
        return new Availability(deviceCount, "");
    }

    public static Availability unavailable(String reason) { return new Availability(0, reason); }

    public boolean isAvailable() { return deviceCount > 0; }
}
