package dev.kiln.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.backend.cpu.CpuKernels;
import dev.kiln.backend.op.Op;
import org.junit.jupiter.api.Test;

/**
 * The self-check that stands between the CUDA attention kernels and a model, without a GPU: the
 * CPU kernel in the device's place passes it, and a device that is wrong in one element of one
 * gradient, loses a NaN, or fails, is caught with a message naming what differed; running out of
 * device memory is not taken for a verdict. (On a GPU,
 * CudaAttentionGpuTest compares the kernels themselves.)
 */
class AttentionSelfCheckTest {
    /** The CPU kernel with one result altered by {@code edit} for one op and wrt. */
    private static AttentionSelfCheck.Device cpuExcept(Op op, String wrt, java.util.function.Consumer<double[]> edit) {
        return (o, in, a, t) -> {
            Strided r = CpuKernels.run(o, in, a, t);
            if (o != op || (wrt != null && !wrt.equals(a.getString("wrt")))) return r;
            Strided d = Copy.toContiguous(r, DType.FLOAT64);
            edit.accept(d.storage().f64());
            return Copy.toContiguous(d, r.dtype());
        };
    }

    @Test
    void theReferenceKernelPasses() {
        assertNull(AttentionSelfCheck.disagreement(CpuKernels::run));
    }

    @Test
    void oneElementOffInTheKeyGradientIsCaught() {
        String d = AttentionSelfCheck.disagreement(cpuExcept(Op.SCALED_DOT_PRODUCT_ATTENTION_GRAD, "k", g -> {
            for (int i = 0; i < g.length; i++) {
                if (!Double.isNaN(g[i])) {
                    g[i] += 1e-3 * (1 + Math.abs(g[i]));
                    return;
                }
            }
        }));
        assertTrue(d != null && d.contains("gradient wrt k"), "caught: " + d);
    }

    @Test
    void swappedKeyAndValueGradientsInTheStackedResultAreCaught() {
        // scaled_dot_product_attention_backward's parts are dq, dk, dv: a kernel writing dv where dk goes is wrong
        String d = AttentionSelfCheck.disagreement(cpuExcept(Op.SCALED_DOT_PRODUCT_ATTENTION_BACKWARD, null, g -> {
            int part = g.length / 3;
            for (int i = 0; i < part; i++) {
                double t = g[part + i];
                g[part + i] = g[2 * part + i];
                g[2 * part + i] = t;
            }
        }));
        assertTrue(d != null && d.contains("the stacked gradients"), "caught: " + d);
    }

    @Test
    void aLostNaNIsCaught() {
        // the first case's NaN query makes its row of the output NaN, and a kernel giving 0 there is wrong
        String d = AttentionSelfCheck.disagreement(cpuExcept(Op.SCALED_DOT_PRODUCT_ATTENTION, null, o -> {
            for (int i = 0; i < o.length; i++) if (Double.isNaN(o[i])) o[i] = 0;
        }));
        assertTrue(d != null && d.contains("output") && d.contains("NaN on the CPU"), "caught: " + d);
    }

    @Test
    void aNaNForARowThatSeesNoKeyIsCaught() {
        // the first case's row 5 (heads 0-2) sees no key: 0, as PyTorch 2.5 on gives; a kernel
        // that still divides 0 by 0 there is wrong
        String d = AttentionSelfCheck.disagreement(cpuExcept(Op.SCALED_DOT_PRODUCT_ATTENTION, null, o -> {
            int ev = 24;
            for (int c = 0; c < ev; c++) o[5 * ev + c] = Double.NaN;
        }));
        assertTrue(d != null && d.contains("output") && d.contains("element " + 5 * 24), "caught: " + d);
    }

    @Test
    void aFailingKernelIsCaught() {
        String d = AttentionSelfCheck.disagreement((o, in, a, t) -> {
            throw new IllegalStateException("CUDA_ERROR_LAUNCH_FAILED");
        });
        assertTrue(d != null && d.contains("the kernel failed") && d.contains("CUDA_ERROR_LAUNCH_FAILED"), "caught: " + d);
    }

    @Test
    void runningOutOfDeviceMemoryIsNoVerdict() {
        // rethrown, so the executor records nothing and checks again at the next attention op
        assertThrows(CudaOutOfMemoryException.class, () -> AttentionSelfCheck.disagreement((o, in, a, t) -> {
            throw new CudaOutOfMemoryException("cuda:0: out of memory allocating 1 MiB");
        }));
    }

    @Test
    void aWrongShapeIsCaught() {
        String d = AttentionSelfCheck.disagreement((o, in, a, t) -> {
            Strided r = CpuKernels.run(o, in, a, t);
            return o == Op.SCALED_DOT_PRODUCT_ATTENTION ? Strided.contiguous(r.storage(), new int[] {r.numel()}) : r;
        });
        assertTrue(d != null && d.contains("has shape"), "caught: " + d);
    }
}
