package dev.kiln.backend.device;

import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;

/**
 * Runs primitive ops on one device. The contract mirrors {@code CpuKernels.run}: inputs are
 * host views, the result is a host view of the op's type. An executor keeps device-resident
 * copies of the storages it has seen (keyed by storage and its version), so a chain of ops
 * re-uploads nothing it already holds; results are written through to host storage so every
 * host-side reader (printing, item(), the tracer) keeps working unchanged.
 */
public interface DeviceExecutor {
    /** The device name, e.g. {@code cuda:0}. */
    String deviceName();

    /** Whether this executor has a kernel for op; ops without one fail in {@link #run}. */
    boolean supports(Op op);

    /**
     * Runs op; throws {@link UnsupportedOperationException} naming the op and the device when
     * there is no kernel for it.
     */
    Strided run(Op op, Strided[] inputs, Attrs attrs, TensorType out);

    /**
     * Waits until every op queued on the device has finished ({@code torch.cuda.synchronize()}).
     * Executors that finish each op before {@link #run} returns need not override it.
     */
    default void synchronize() {}
}
