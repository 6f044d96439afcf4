package dev.kiln.benchmarks;

import dev.kiln.eager.Tensor;
import java.util.Arrays;

/**
 * The check every traced workload passes once before it is timed: a fast wrong answer must stop
 * the run, not land in the table. Throws with the largest difference so a mismatch is diagnosable.
 */
final class AgreesWithEager {
    private AgreesWithEager() {}

    /** Float32 tolerances: fused gelu's erfc fit and reordered GEMM sums differ from eager in the last bits. */
    private static final double RTOL = 1e-4, ATOL = 1e-5;

    static void check(String workload, String what, Tensor traced, Tensor eager) {
        if (traced.allclose(eager, RTOL, ATOL)) return;
        String diff = Arrays.equals(traced.shape(), eager.shape())
                ? "max |traced - eager| = " + traced.sub(eager).abs().max().item()
                : "shape " + Arrays.toString(traced.shape()) + " vs eager " + Arrays.toString(eager.shape());
        throw new IllegalStateException(workload + ": " + what + " disagrees with eager (rtol " + RTOL + ", atol " + ATOL + "): " + diff);
    }
}
