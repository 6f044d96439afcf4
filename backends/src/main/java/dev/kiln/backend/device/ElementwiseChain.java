package dev.kiln.backend.device;

import dev.kiln.backend.DType;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import java.util.List;

/**
 * A chain of elementwise ops over one index space, computed in one pass when the device can:
 * the compiled executor's fused groups as a device sees them ({@link DeviceExecutor#runFused}),
 * and the input of CUDA's kernel generator. Every step has the output's shape and {@code dtype}.
 *
 * <p>A {@link Step}'s sources name earlier steps ({@code >= 0}) or the chain's inputs
 * ({@link #input(int) input(k)} {@code = -1 - k}); the last step is the output.
 *
 * @param name a label for the chain (kernel names and error messages)
 */
public record ElementwiseChain(String name, DType dtype, int inputs, List<Step> steps) {
    public record Step(Op op, Attrs attrs, int... srcs) {
        public Step(Op op, int... srcs) { this(op, Attrs.EMPTY, srcs); }
    }

    public ElementwiseChain {
        steps = List.copyOf(steps);
    }

    /** The source reference for chain input k. */
    public static int input(int k) { return -1 - k; }
}
