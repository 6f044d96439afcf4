package dev.kiln.backend.device;

import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;

/**
 * Runs primitive ops on one device. The contract mirrors {@code CpuKernels.run}: inputs and the
 * result are views of {@link dev.kiln.backend.Storage}s. An executor keeps device copies of the
 * storages it has seen (keyed by storage and its version), so a chain of ops re-uploads nothing
 * it already holds, and may return results that live only on the device
 * ({@link dev.kiln.backend.Storage#onDevice}): host readers (printing, item(), the tracer) get
 * them copied on first access.
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
     * Computes an elementwise chain over {@code inputs} (strided, broadcast to {@code shape}) in
     * one pass where the device can (CUDA generates one kernel per chain). This default runs the
     * steps one op at a time through {@link #run} (on the CPU where the device lacks the kernel,
     * see {@link CpuFallback}), so every executor can run compiled graphs.
     */
    default Strided runFused(ElementwiseChain chain, Strided[] inputs, int[] shape) {
        TensorType type = TensorType.of(chain.dtype(), shape);
        Strided[] results = new Strided[chain.steps().size()];
        for (int i = 0; i < results.length; i++) {
            ElementwiseChain.Step s = chain.steps().get(i);
            Strided[] in = new Strided[s.srcs().length];
            for (int j = 0; j < in.length; j++) {
                int src = s.srcs()[j];
                in[j] = src >= 0 ? results[src] : inputs[-1 - src];
            }
            results[i] = CpuFallback.run(this, s.op(), in, s.attrs(), type);
        }
        return results[results.length - 1];
    }

    /**
     * Writes {@code value} (any layout and dtype, dest's shape) into {@code dest}
     * on the device and bumps dest's storage version, as an in-place op's final copy. Returns
     * false, having done nothing, when it cannot (the caller then copies on the host); an
     * executor whose results live on the host need not override it. {@code valueIsTemporary}:
     * nothing else will read value's storage again (a result computed just for this write, with
     * no autograd node or tracer holding it), so its device memory may become dest's instead of
     * being copied.
     */
    default boolean writeInto(Strided value, Strided dest, boolean valueIsTemporary) { return false; }

    /**
     * Waits until every op queued on the device has finished ({@code torch.cuda.synchronize()}).
     * Executors that finish each op before {@link #run} returns need not override it.
     */
    default void synchronize() {}
}
