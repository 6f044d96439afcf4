package dev.kiln.backend.cpu;

import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.shape.TensorType;

/**
 * The variant of a {@link CpuKernel} (elementwise ops, matmul, cat, softmax and its gradient,
 * layer norm and its x gradient) that writes its result into a
 * buffer the caller owns (an in-place op such as {@code add_}, a compiled plan's arena slot),
 * instead of allocating one. {@code dest} is contiguous, of type and shape {@code out}, and
 * either shares no memory with an input or is exactly that input (same offset, strides and
 * shape; a kernel whose outputs read more than their own position, as matmul's and the row
 * kernels', declines that too). Returns false, having written nothing, when this call cannot be served that way; the
 * caller then computes out of place.
 */
@FunctionalInterface
interface IntoKernel {
    boolean run(Strided[] inputs, Attrs attrs, TensorType out, Strided dest);

    /**
     * Whether calls with these attributes and this result type can be served at all (a
     * compiled plan gives only those an arena slot); a call may still be declined at run time
     * for its inputs' layout.
     */
    default boolean serves(Attrs attrs, TensorType out) { return true; }

    /** {@code kernel}, serving only the calls {@code serves} accepts. */
    static IntoKernel when(java.util.function.BiPredicate<Attrs, TensorType> serves, IntoKernel kernel) {
        return new IntoKernel() {
            @Override
            public boolean run(Strided[] inputs, Attrs attrs, TensorType out, Strided dest) {
                return serves.test(attrs, out) && kernel.run(inputs, attrs, out, dest);
            }

            @Override
            public boolean serves(Attrs attrs, TensorType out) { return serves.test(attrs, out); }
        };
    }
}
