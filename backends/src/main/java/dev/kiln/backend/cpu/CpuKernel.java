package dev.kiln.backend.cpu;

import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.shape.TensorType;

/**
 * The CPU implementation of one primitive op. Inputs are strided views; the result is either
 * a fresh buffer or, for view ops, a view of an input's storage. {@code out} is the op's
 * result type with concrete dims, already computed by the op's shape rule.
 */
@FunctionalInterface
public interface CpuKernel {
    Strided run(Strided[] inputs, Attrs attrs, TensorType out);
}
