package dev.kiln.backend.cpu;

import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * The CPU backend's kernel table: one kernel per op, registered by family, and beside it the
 * write-into kernels of the ops that have one (elementwise ops, matmul, cat, softmax and its
 * gradient, layer norm and its x gradient; {@link #runInto}).
 */
public final class CpuKernels {
    private static final Map<Op, CpuKernel> KERNELS;
    private static final Map<Op, IntoKernel> INTO;

    static {
        EnumMap<Op, CpuKernel> k = new EnumMap<>(Op.class);
        EnumMap<Op, IntoKernel> into = new EnumMap<>(Op.class);
        ElementwiseKernels.register(k, into);
        ReductionKernels.register(k, into);
        LinalgKernels.register(k, into);
        ViewKernels.register(k);
        IndexKernels.register(k, into);
        NnKernels.register(k);
        NormKernels.register(k, into);
        KERNELS = Collections.unmodifiableMap(k);
        INTO = Collections.unmodifiableMap(into);
    }

    private CpuKernels() {}

    public static boolean has(Op op) { return KERNELS.containsKey(op); }

    /** Whether op has a write-into kernel ({@link #runInto} may still decline a given call). */
    public static boolean hasInto(Op op) { return INTO.containsKey(op); }

    /**
     * Whether op's write-into kernel can serve calls with these attributes and this result type
     * at all (a compiled plan gives such a step an arena slot), as each kernel states beside its
     * registration ({@link IntoKernel#serves}). A call may still be declined at run time for its
     * inputs' layout (a transposed softmax input).
     */
    public static boolean hasInto(Op op, Attrs attrs, TensorType out) {
        IntoKernel k = INTO.get(op);
        return k != null && k.serves(attrs, out);
    }

    /** Runs op's CPU kernel; {@code out} is the checked result type with concrete dims. */
    public static Strided run(Op op, Strided[] inputs, Attrs attrs, TensorType out) {
        CpuKernel k = KERNELS.get(op);
        if (k == null) throw new IllegalStateException(op.opName() + ": no CPU kernel is registered");
        return k.run(inputs, attrs, out);
    }

    /**
     * Runs op writing its result into {@code dest} (the storage of an in-place op's target, or a
     * compiled plan's arena slot) when
     * op has such a kernel and the buffer can take it: dest contiguous, of out's dtype and shape,
     * and every input either disjoint from dest's storage or exactly dest (for matmul, cat and the
     * row kernels: disjoint, since an output element reads more than its own position). Returns false, having written
     * nothing, otherwise; the caller then computes out of place and copies.
     */
    public static boolean runInto(Op op, Strided[] inputs, Attrs attrs, TensorType out, Strided dest) {
        IntoKernel k = INTO.get(op);
        if (k == null || !dest.isContiguous() || dest.dtype() != out.dtype()
                || !java.util.Arrays.equals(dest.shape(), out.concreteShape())) return false;
        for (Strided in : inputs) {
            boolean shared = in.storage() == dest.storage();
            if (shared && !(in.offset() == dest.offset() && java.util.Arrays.equals(in.shape(), dest.shape())
                    && java.util.Arrays.equals(in.strides(), dest.strides()))) return false;
        }
        return k.run(inputs, attrs, out, dest);
    }

    /**
     * Runs op into {@code dest} when {@link #runInto} can, else into a new buffer; returns the
     * result, dest or the new one (a compiled plan's step with an arena slot).
     */
    public static Strided runPreferring(Op op, Strided[] inputs, Attrs attrs, TensorType out, Strided dest) {
        return runInto(op, inputs, attrs, out, dest) ? dest : run(op, inputs, attrs, out);
    }
}
