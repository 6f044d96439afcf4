package dev.kiln.eager.nn.functional;

import dev.kiln.backend.DType;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.eager.Tensor;

/**
 * Reads of index values that only validate them (labels in range, embedding indices). They do
 * not steer the computation, so they bypass the tracer's data-dependent-read check: a traced
 * loss stays traceable in strict mode, and a bad index in a traced graph still fails in the
 * gather/index kernel with a message naming the index.
 */
final class ValidationReads {
    private ValidationReads() {}

    static long[] longValues(Tensor t) { return Copy.toContiguous(t.data(), DType.INT64).storage().i64(); }
}
