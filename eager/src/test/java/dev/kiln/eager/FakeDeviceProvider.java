package dev.kiln.eager;

import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.CpuKernels;
import dev.kiln.backend.device.Availability;
import dev.kiln.backend.device.DeviceExecutor;
import dev.kiln.backend.device.DeviceProvider;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A second device kind for kiln-eager's tests, {@code fake:0}, registered through
 * META-INF/services like the CUDA module: it runs every op with the CPU kernels and counts
 * them, so device moves, the funnel's routing and gradients across devices are tested on
 * machines without a GPU. Its kind is not "cuda", so CUDA stays unavailable in these tests.
 */
public final class FakeDeviceProvider implements DeviceProvider {
    /** Ops the fake executor has run (all threads). */
    static final AtomicInteger OPS_RUN = new AtomicInteger();

    /** The fake device (the provider is found by kind, so {@link Device#checkAvailable} passes). */
    static Device device() { return Device.unchecked("fake", 0); }

    @Override
    public String kind() { return "fake"; }

    @Override
    public Availability availability() { return Availability.available(1); }

    @Override
    public DeviceExecutor executor(int index) {
        return new DeviceExecutor() {
            @Override
            public String deviceName() { return "fake:" + index; }

            @Override
            public boolean supports(Op op) { return true; }

            @Override
            public Strided run(Op op, Strided[] inputs, Attrs attrs, TensorType out) {
                OPS_RUN.incrementAndGet();
                return CpuKernels.run(op, inputs, attrs, out);
            }
        };
    }
}
