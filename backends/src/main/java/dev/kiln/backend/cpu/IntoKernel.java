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
}
