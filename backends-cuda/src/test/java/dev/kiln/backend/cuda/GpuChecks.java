package dev.kiln.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.eager.Device;
import org.junit.jupiter.api.Assumptions;

/** What the GPU tests share: the skip without a GPU, and comparing GPU results with the CPU's. */
final class GpuChecks {
    private GpuChecks() {}

    /** cuda:0, or the test is skipped with the reason CUDA cannot be used. */
    static Device gpu() {
        Assumptions.assumeTrue(CudaBackend.isAvailable(), CudaBackend::unavailableReason);
        return Device.cuda(0);
    }

    /** Every element of actual within tol * (1 + |expected|) of expected; failures name {@code what} and the element. */
    static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol * (1 + Math.abs(expected[i])), what + " element " + i);
        }
    }
}
