package dev.kiln.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.backend.DType;
import dev.kiln.eager.Device;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.NnPrimitives;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The CUDA attention kernels (attention.cu) against the CPU kernel: the forward and the three
 * gradients, at awkward sizes (one query, lengths around the 128-thread tile, head dims 8, 64
 * and 80, L != S), with bool and additive masks that broadcast, causal, and rows with no key
 * left. Skipped, with the reason, without a GPU.
 */
class CudaAttentionGpuTest {
    Device gpu;

    @BeforeEach
    void needGpu() {
        gpu = GpuChecks.gpu();
        Kiln.manualSeed(11);
    }

    private record Case(int l, int s, int e, int ev, String mask, boolean causal) {}

    private static final Case[] CASES = {
        new Case(1, 1, 8, 8, "none", false),
        new Case(7, 7, 64, 64, "none", true),
        new Case(129, 129, 80, 80, "none", true),
        new Case(5, 130, 16, 24, "bool", false),
        new Case(127, 128, 8, 8, "float", false),
        new Case(33, 33, 64, 64, "bool", true),
        new Case(4, 0, 8, 8, "none", false),
        new Case(70, 70, 16, 16, "dead", true),
        new Case(9, 300, 8, 8, "dead", false),
        new Case(9, 300, 8, 8, "nan", false),
    };

    private static Tensor mask(Case c) {
        return switch (c.mask) {
            case "bool" -> Tensor.rand(c.l, c.s).gt(0.3); // broadcast over batch and heads
            case "dead" -> { // query row 3 sees no key: a 0 output row that adds nothing to any gradient (PyTorch 2.5 on)
                boolean[] keep = new boolean[c.l * c.s];
                java.util.Random r = new java.util.Random(c.l);
                for (int i = 0; i < keep.length; i++) keep[i] = i / c.s != 3 && r.nextInt(4) > 0;
                yield Tensor.of(keep, c.l, c.s);
            }
            case "float" -> Tensor.randn(2, 1, c.l, c.s);
            default -> null;
        };
    }

    private static void close(Tensor expected, Tensor actual, String what) {
        assertEquals(java.util.Arrays.toString(expected.shape()), java.util.Arrays.toString(actual.shape()), what);
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            boolean ok = Double.isNaN(e[i]) ? Double.isNaN(a[i]) : Math.abs(e[i] - a[i]) <= 1e-4 * (1 + Math.abs(e[i]));
            int at = i;
            assertTrue(ok, () -> what + " element " + at + ": cpu " + e[at] + ", cuda " + a[at]);
        }
    }

    /**
     * The kernels pass their own self-check on this GPU, so the comparisons below run them (a
     * failed check would send attention to the CPU, and the CPU would then agree with itself).
     */
    @Test
    void theKernelsPassTheirSelfCheckSoTheyAreWhatRuns() {
        assertNull(((CudaExecutor) gpu.executor()).attentionSelfCheck(), "the self-check's disagreement");
    }

    @Test
    void forwardAndEveryGradientMatchTheCpu() {
        for (Case c : CASES) {
            Tensor q = Tensor.randn(2, 3, c.l, c.e), k = Tensor.randn(2, 3, c.s, c.e), v = Tensor.randn(2, 3, c.s, c.ev);
            if (c.mask.equals("nan")) { // a NaN key in the first tile only: every row's output is NaN, as on the CPU
                float[] kv = k.toFloatArray();
                kv[0] = Float.NaN;
                k = Tensor.of(kv, 2, 3, c.s, c.e);
            }
            Tensor m = mask(c), go = Tensor.randn(2, 3, c.l, c.ev);
            Tensor mg = m == null ? null : m.to(gpu);
            String what = c.toString();
            Tensor out = NnPrimitives.scaledDotProductAttention(q, k, v, m, c.causal, null);
            Tensor outGpu = NnPrimitives.scaledDotProductAttention(q.to(gpu), k.to(gpu), v.to(gpu), mg, c.causal, null);
            assertEquals(gpu, outGpu.device(), what);
            close(out, outGpu, what + " forward");
            for (String wrt : new String[] {"q", "k", "v"}) {
                Tensor g = NnPrimitives.scaledDotProductAttentionGrad(wrt, q, k, v, out, go, m, c.causal, 0.3);
                Tensor gg = NnPrimitives.scaledDotProductAttentionGrad(wrt, q.to(gpu), k.to(gpu), v.to(gpu), out.to(gpu), go.to(gpu), mg, c.causal, 0.3);
                close(g, gg, what + " d" + wrt);
            }
        }
    }

    @Test
    void float64MatchesTheCpu() {
        Tensor q = Tensor.randn(3, 130, 16).to(DType.FLOAT64), k = Tensor.randn(3, 70, 16).to(DType.FLOAT64), v = Tensor.randn(3, 70, 8).to(DType.FLOAT64);
        Tensor out = NnPrimitives.scaledDotProductAttention(q, k, v, null, false, null);
        close(out, NnPrimitives.scaledDotProductAttention(q.to(gpu), k.to(gpu), v.to(gpu), null, false, null), "f64 forward");
        Tensor go = Tensor.randn(3, 130, 8).to(DType.FLOAT64);
        for (String wrt : new String[] {"q", "k", "v"}) {
            close(NnPrimitives.scaledDotProductAttentionGrad(wrt, q, k, v, out, go, null, false, null),
                    NnPrimitives.scaledDotProductAttentionGrad(wrt, q.to(gpu), k.to(gpu), v.to(gpu), out.to(gpu), go.to(gpu), null, false, null),
                    "f64 d" + wrt);
        }
    }
}
