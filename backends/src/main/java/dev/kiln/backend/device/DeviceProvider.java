package dev.kiln.backend.device;

/**
 * A non-CPU device family (today: "cuda"), found with {@link java.util.ServiceLoader} so that
 * kiln-backends and kiln-eager never link against a native binding at compile time. An
 * implementation must not throw from {@link #availability()}: a missing driver, a missing GPU
 * or a native library that fails to load is reported as an unavailable {@link Availability}.
 */
public interface DeviceProvider {
    /** The device family, as written in device names ({@code cuda} in {@code cuda:0}). */
    String kind();

    /** Whether devices of this kind can be used, how many, and if not, why not. Never throws. */
    Availability availability();

    /**
     * The executor for device {@code index}; only called when {@link #availability()} says
     * the device exists, and throws {@link IllegalStateException} with the reason otherwise.
     */
    DeviceExecutor executor(int index);
}
