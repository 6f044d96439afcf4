package dev.kiln.backend.cpu;

import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/** The CPU backend's kernel table: one kernel per op, registered by family. */
public final class CpuKernels {
    private static final Map<Op, CpuKernel> KERNELS;

    static {
        EnumMap<Op, CpuKernel> k = new EnumMap<>(Op.class);
        ElementwiseKernels.register(k);
        ReductionKernels.register(k);
        LinalgKernels.register(k);
        ViewKernels.register(k);
        IndexKernels.register(k);
        NnKernels.register(k);
        KERNELS = Collections.unmodifiableMap(k);
    }

    private CpuKernels() {}

    public static boolean has(Op op) { return KERNELS.containsKey(op); }

    /** Runs op's CPU kernel; {@code out} is the checked result type with concrete dims. */
    public static Strided run(Op op, Strided[] inputs, Attrs attrs, TensorType out) {
        CpuKernel k = KERNELS.get(op);
        if (k == null) throw new IllegalStateException(op.opName() + ": no CPU kernel is registered");
        return k.run(inputs, attrs, out);
    }
}
