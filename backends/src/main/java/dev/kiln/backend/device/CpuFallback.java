package dev.kiln.backend.device;

import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.CpuKernels;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs an op on a device, or on the CPU when the device has no kernel for it (or not for these
 * dtypes), logging once per device and op why: a model with one uncovered op (an argmax for
 * accuracy, a cat) still runs on the GPU, its inputs copied to the host for that op and its
 * result uploaded again by the next device op. The result is correct either way; only the
 * copies cost time. {@code -Dkiln.device.cpuFallback=false} makes such ops fail instead, with the
 * executor's message (to find them, or to be sure nothing leaves the GPU).
 */
public final class CpuFallback {
    private static final System.Logger LOG = System.getLogger("dev.kiln.backend");
    private static final Set<String> LOGGED = ConcurrentHashMap.newKeySet();

    private CpuFallback() {}

    /** Whether uncovered ops run on the CPU (the default) rather than fail. */
    public static boolean enabled() { return !"false".equals(System.getProperty("kiln.device.cpuFallback")); }

    public static Strided run(DeviceExecutor device, Op op, Strided[] inputs, Attrs attrs, TensorType out) {
        try {
            return device.run(op, inputs, attrs, out);
        } catch (UnsupportedOperationException uncovered) {
            if (!enabled()) throw uncovered;
            if (LOGGED.add(device.deviceName() + "\0" + op.opName())) {
                LOG.log(System.Logger.Level.WARNING, uncovered.getMessage() + "; running " + op.opName() + " on the CPU instead (its inputs are copied to the host; "
                        + "-Dkiln.device.cpuFallback=false makes this an error)");
            }
            return CpuKernels.run(op, inputs, attrs, out);
        }
    }
}
