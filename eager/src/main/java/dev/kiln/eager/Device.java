package dev.kiln.eager;

import dev.kiln.backend.device.Availability;
import dev.kiln.backend.device.DeviceExecutor;
import dev.kiln.backend.device.DeviceProvider;
import dev.kiln.backend.device.DeviceProviders;
import java.util.Objects;

/**
 * Where a tensor's ops run: {@code cpu} or {@code cuda:i}. CUDA comes from the optional
 * kiln-backends-cuda module through a {@link DeviceProvider}, so this class (and eager) never
 * links against JCuda; asking for a CUDA device where there is none fails here, with the reason.
 */
public final class Device {
    private static final Device CPU = new Device("cpu", 0);

    private final String kind;
    private final int index;

    private Device(String kind, int index) {
        this.kind = kind;
        this.index = index;
    }

    public static Device cpu() { return CPU; }

    /**
     * CUDA device index; throws {@link IllegalStateException} ("CUDA is not available: ...")
     * when no usable GPU, driver or CUDA module is present, and {@link IllegalArgumentException}
     * for an index past the device count.
     */
    public static Device cuda(int index) {
        requireExists("cuda", index);
        return new Device("cuda", index);
    }

    /** The availability check of {@link #cuda} for any kind, with the same messages. */
    private static void requireExists(String kind, int index) {
        Availability a = DeviceProviders.availability(kind);
        String label = kind.toUpperCase(java.util.Locale.ROOT);
        if (!a.isAvailable()) throw new IllegalStateException(label + " is not available: " + a.reason());
        if (index < 0 || index >= a.deviceCount()) {
            throw new IllegalArgumentException(kind + ":" + index + " does not exist: " + a.deviceCount() + " " + label + " device(s) found");
        }
    }

    /**
     * Fails unless ops can run on this device in this JVM, with the messages of {@link #cuda}
     * ({@code IllegalStateException: CUDA is not available: <reason>}); returns this. Moves
     * ({@code Tensor.to}, {@code Module.to}) call it before they change or copy anything.
     */
    public Device checkAvailable() {
        if (isCpu()) return this;
        requireExists(kind, index);
        executor(); // the provider's own refusal, if it has one, also comes before any work
        return this;
    }

    /** A device by name ("cpu", "cuda", "cuda:1"), as in PyTorch. */
    public static Device of(String name) {
        if (name.equals("cpu")) return CPU;
        if (name.equals("cuda")) return cuda(0);
        if (name.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(name.substring(5)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad device name '" + name + "' (expected cpu, cuda or cuda:<index>)");
            }
        }
        throw new IllegalArgumentException("unknown device '" + name + "' (expected cpu, cuda or cuda:<index>)");
    }

    /** For tests of device checks on machines without a GPU: the tag alone, no availability check. */
    static Device unchecked(String kind, int index) { return kind.equals("cpu") ? CPU : new Device(kind, index); }

    public String kind() { return kind; }

    public int index() { return index; }

    public boolean isCpu() { return this == CPU; }

    /**
     * The device tensors used together run on: the one they share. A 0-d CPU tensor (a wrapped
     * Java scalar) may join tensors on any device, as in PyTorch; anything else on two devices
     * is an error naming {@code what} (the op, a traced function), never a silent copy. Every op
     * goes through this rule, and so do compiled graphs and traced steps given tensors.
     */
    public static Device common(String what, Tensor... tensors) {
        Device found = null;
        for (Tensor t : tensors) {
            Device d = t.device();
            if (d.isCpu() && t.dim() == 0) continue;
            if (found == null) found = d;
            else if (!found.equals(d)) {
                throw new IllegalArgumentException(what + ": tensors are on different devices: " + found + " and " + d
                        + " (move one with .to(device) first)");
            }
        }
        if (found != null) return found;
        return tensors.length == 0 ? CPU : tensors[0].device();
    }

    /**
     * Waits until the work queued on this device has finished, like
     * {@code torch.cuda.synchronize()}; on the CPU, where ops finish before they return, it
     * returns at once. Time device work with it around the timed region.
     */
    public void synchronize() {
        if (!isCpu()) executor().synchronize();
    }

    /**
     * The executor that runs ops on this (non-CPU) device: for the compiled executor
     * ({@code CompileOptions.withDevice}); tensor code never needs it.
     */
    public DeviceExecutor executor() {
        DeviceProvider p = DeviceProviders.find(kind);
        if (p == null) throw new IllegalStateException(this + ": " + DeviceProviders.availability(kind).reason());
        return p.executor(index);
    }

    @Override
    public boolean equals(Object o) { return o instanceof Device d && d.kind.equals(kind) && d.index == index; }

    @Override
    public int hashCode() { return Objects.hash(kind, index); }

    @Override
    public String toString() { return isCpu() ? "cpu" : kind + ":" + index; }
}
