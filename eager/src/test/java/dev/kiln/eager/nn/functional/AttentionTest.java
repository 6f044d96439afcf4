package dev.kiln.eager.nn.functional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fused scaled dot-product attention against the formula written out in Java doubles, at
 * sizes around its 64-row tiles (T = 1, 7, 63, 64, 65, 129), head dims 8, 64 and 80, with bool
 * and float masks, causal, and L != S; its gradients against the composite form and a float64
 * gradcheck; its memory at T = 4096 against the T^2 score matrix it never builds.
 */
class AttentionTest {
    /** softmax(q k^T scale + mask) v for [B, L, E], [B, S, E], [B, S, Ev], one batch dim; mask [L, S] (bool or additive) or null. */
    static double[] naive(double[] q, double[] k, double[] v, int b, int l, int s, int e, int ev, Object mask, boolean causal, double scale) {
        double[] out = new double[b * l * ev];
        for (int h = 0; h < b; h++) {
            for (int i = 0; i < l; i++) {
                double[] w = new double[s];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < s; j++) {
                    double x = 0;
                    for (int c = 0; c < e; c++) x += q[(h * l + i) * e + c] * k[(h * s + j) * e + c];
                    x *= scale;
                    if (causal && j > i) x = Double.NEGATIVE_INFINITY;
                    if (mask instanceof boolean[] m && !m[i * s + j]) x = Double.NEGATIVE_INFINITY;
                    if (mask instanceof double[] m) x += m[i * s + j];
                    w[j] = x;
                    max = Math.max(max, x);
                }
                double sum = 0;
                for (int j = 0; j < s; j++) sum += w[j] = Math.exp(w[j] - max);
                for (int c = 0; c < ev; c++) {
                    double o = 0;
                    for (int j = 0; j < s; j++) o += w[j] / sum * v[(h * s + j) * ev + c];
                    out[(h * l + i) * ev + c] = o;
                }
            }
        }
        return out;
    }

    static double[] randn(Random r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = r.nextGaussian();
        return a;
    }

    @Test
    void theFusedKernelMatchesTheFormulaAroundItsTiles() {
        theFormulaAt("whole rows");
        // the tiled kernels with their online softmax, which keys past the whole-row limit take
        AttentionBackwardTest.withWholeRowKeys(0, () -> theFormulaAt("tiles"));
    }

    private static void theFormulaAt(String path) {
        Random r = new Random(5);
        int[][] sizes = {{1, 1, 8}, {7, 7, 8}, {7, 9, 80}, {63, 63, 64}, {64, 64, 8}, {65, 130, 16}, {129, 129, 64}};
        for (int[] z : sizes) {
            int l = z[0], s = z[1], e = z[2], ev = e == 80 ? 24 : e, b = 2;
            double[] q = randn(r, b * l * e), k = randn(r, b * s * e), v = randn(r, b * s * ev);
            boolean[] keep = new boolean[l * s];
            for (int i = 0; i < keep.length; i++) keep[i] = r.nextDouble() < 0.7 || i % s == 0; // every row keeps key 0
            double[] add = randn(r, l * s);
            for (DType dt : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
                Tensor tq = Tensor.of(q, b, l, e).to(dt), tk = Tensor.of(k, b, s, e).to(dt), tv = Tensor.of(v, b, s, ev).to(dt);
                double tol = dt == DType.FLOAT64 ? 1e-12 : 2e-5;
                double sc = 1 / Math.sqrt(e);
                String at = path + " " + dt.shortName() + " L=" + l + " S=" + s + " E=" + e;
                close(at, naive(q, k, v, b, l, s, e, ev, null, false, sc), F.scaledDotProductAttention(tq, tk, tv), tol);
                if (l == s) close(at + " causal", naive(q, k, v, b, l, s, e, ev, null, true, sc), F.scaledDotProductAttention(tq, tk, tv, null, 0, true, null), tol);
                close(at + " bool mask", naive(q, k, v, b, l, s, e, ev, keep, false, sc),
                        F.scaledDotProductAttention(tq, tk, tv, Tensor.of(keep, l, s), 0, false, null), tol);
                close(at + " float mask, scale 0.3", naive(q, k, v, b, l, s, e, ev, add, false, 0.3),
                        F.scaledDotProductAttention(tq, tk, tv, Tensor.of(add, l, s).to(dt), 0, false, 0.3), tol);
            }
        }
    }

    static void close(String what, double[] want, Tensor got, double tol) {
        double[] g = got.to(DType.FLOAT64).toDoubleArray();
        assertEquals(want.length, g.length, what);
        for (int i = 0; i < g.length; i++) {
            int at = i;
            assertTrue(Math.abs(want[i] - g[i]) <= tol * (1 + Math.abs(want[i])), () -> what + " element " + at + ": " + want[at] + " vs " + g[at]);
        }
    }

    /** The same attention through matmul and softmax, whose gradients come from their own rules. */
    static Tensor composite(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal) {
        Tensor s = q.matmul(k.transpose(-2, -1)).mul(1 / Math.sqrt(q.shape(-1)));
        if (causal) s = s.maskedFill(Tensor.onesLike(s).tril().to(DType.BOOL).logicalNot(), Double.NEGATIVE_INFINITY);
        if (mask != null) s = s.maskedFill(mask.logicalNot(), Double.NEGATIVE_INFINITY);
        return s.softmax(-1).matmul(v);
    }

    @Test
    void gradientsMatchTheCompositeFormAndPassGradcheck() {
        gradientsAt("whole rows");
        AttentionBackwardTest.withWholeRowKeys(0, () -> gradientsAt("tiles"));
    }

    private static void gradientsAt(String path) {
        Kiln.manualSeed(3);
        for (int[] z : new int[][] {{5, 5, 4}, {70, 70, 8}, {7, 130, 16}}) {
            int l = z[0], s = z[1], e = z[2];
            Tensor q = Tensor.randn(2, 3, l, e).to(DType.FLOAT64).requiresGrad(true), k = Tensor.randn(2, 3, s, e).to(DType.FLOAT64).requiresGrad(true);
            Tensor v = Tensor.randn(2, 3, s, 6).to(DType.FLOAT64).requiresGrad(true), gout = Tensor.randn(2, 3, l, 6).to(DType.FLOAT64);
            Tensor mask = Tensor.rand(1, 3, l, s).gt(0.3).logicalOr(Tensor.onesLike(Tensor.rand(1, 3, l, s)).tril().to(DType.BOOL));
            for (boolean causal : new boolean[] {false, true}) {
                if (causal && l != s) continue;
                for (Tensor m : new Tensor[] {null, mask}) {
                    Tensor[] fused = grads(F.scaledDotProductAttention(q, k, v, m, 0, causal, null), gout, q, k, v);
                    Tensor[] ref = grads(composite(q, k, v, m, causal), gout, q, k, v);
                    for (int i = 0; i < 3; i++) {
                        assertArrayEquals(ref[i].toDoubleArray(), fused[i].toDoubleArray(), 1e-10,
                                path + " grad " + "qkv".charAt(i) + " L=" + l + " S=" + s + " causal " + causal + " mask " + (m != null));
                    }
                }
            }
        }
        Tensor q = Tensor.randn(1, 2, 5, 3).to(DType.FLOAT64).requiresGrad(true), k = Tensor.randn(1, 2, 6, 3).to(DType.FLOAT64).requiresGrad(true);
        Tensor v = Tensor.randn(1, 2, 6, 4).to(DType.FLOAT64).requiresGrad(true);
        Tensor add = Tensor.randn(5, 6).to(DType.FLOAT64);
        assertTrue(Autograd.gradcheck(in -> F.scaledDotProductAttention(in[0], in[1], in[2], add, 0, false, 0.7), q, k, v));
        Tensor sq = Tensor.randn(1, 2, 6, 3).to(DType.FLOAT64).requiresGrad(true);
        assertTrue(Autograd.gradcheck(in -> F.scaledDotProductAttention(in[0], in[1], in[2], null, 0, true, null), sq, k, v));
        // a float mask that needs a gradient takes the composite form, which gives it one
        Tensor trainable = Tensor.randn(5, 6).to(DType.FLOAT64).requiresGrad(true);
        assertTrue(Autograd.gradcheck(in -> F.scaledDotProductAttention(in[0], in[1], in[2], in[3], 0, false, null), q, k, v, trainable));
    }

    static Tensor[] grads(Tensor out, Tensor gout, Tensor... in) {
        for (Tensor t : in) t.setGrad(null);
        out.backward(gout);
        Tensor[] g = new Tensor[in.length];
        for (int i = 0; i < in.length; i++) g[i] = in[i].grad().clone();
        return g;
    }

    @Test
    void multiheadAttentionTakesTheFusedPathOnlyWhereItMeansTheSame() {
        Kiln.manualSeed(2);
        dev.kiln.eager.nn.MultiheadAttention m = new dev.kiln.eager.nn.MultiheadAttention(8, 2, 0.5, true, true);
        Tensor x = Tensor.randn(2, 5, 8);
        try (var ng = Autograd.noGrad()) {
            m.train(); // training draws dropout, with or without autograd
            Tensor a = m.forward(x, x, x, null, false, null, true).output(), b = m.forward(x, x, x, null, false, null, true).output();
            assertTrue(a.sub(b).abs().max().item() > 0.01, "two training calls draw different dropout masks");
            m.eval(); // the fused path: no weights, no dropout, the same result as the math path
            Tensor fused = m.forward(x, x, x, null, false, null, true).output(), math = m.forward(x, x, x, null, true, null, true).output();
            assertTrue(fused.allclose(math, 1e-5, 1e-6), "fused and math paths agree in eval mode");
        }
    }

    @Test
    void dropoutOnTheProbabilitiesAveragesToTheUndroppedAttentionAndPOneGivesZeros() {
        // PyTorch applies dropout_p whenever it is > 0: each draw zeroes probabilities and scales
        // the rest by 1 / (1 - p), so the mean over draws is the attention without dropout
        Kiln.manualSeed(21);
        Tensor q = Tensor.randn(1, 2, 3, 4).to(DType.FLOAT64), k = Tensor.randn(1, 2, 5, 4).to(DType.FLOAT64), v = Tensor.randn(1, 2, 5, 3).to(DType.FLOAT64);
        double[] want = F.scaledDotProductAttention(q, k, v, null, 0, true, null).toDoubleArray();
        double[] mean = new double[want.length];
        int draws = 4000;
        boolean differ = false;
        for (int d = 0; d < draws; d++) {
            double[] one = F.scaledDotProductAttention(q, k, v, null, 0.5, true, null).toDoubleArray();
            for (int i = 0; i < mean.length; i++) {
                mean[i] += one[i] / draws;
                differ |= Math.abs(one[i] - want[i]) > 1e-9;
            }
        }
        assertTrue(differ, "a draw drops something");
        // each element's mean has variance p / (1 - p) * sum_j P_ij^2 v_jc^2 / draws (p / (1 - p) = 1
        // here, P the causal softmax of q k^T / sqrt(4)): within 5 sigma
        double[] p = q.matmul(k.transpose(-2, -1)).mul(0.5).maskedFill(Tensor.ones(3, 5).tril().to(DType.BOOL).logicalNot(), Double.NEGATIVE_INFINITY)
                .softmax(-1).toDoubleArray();
        double[] vv = v.toDoubleArray();
        for (int h = 0; h < 2; h++) {
            for (int i = 0; i < 3; i++) {
                for (int c = 0; c < 3; c++) {
                    double var = 0;
                    for (int j = 0; j < 5; j++) var += Math.pow(p[(h * 3 + i) * 5 + j] * vv[(h * 5 + j) * 3 + c], 2);
                    double sigma = Math.sqrt(var / draws), w = want[(h * 3 + i) * 3 + c], got = mean[(h * 3 + i) * 3 + c];
                    assertTrue(Math.abs(got - w) <= 5 * sigma + 1e-12, "the mean over " + draws + " draws at " + h + "," + i + "," + c + ": " + got + " vs " + w + " (sigma " + sigma + ")");
                }
            }
        }
        for (double x : F.scaledDotProductAttention(q, k, v, null, 1, false, null).toDoubleArray()) assertEquals(0.0, x, "p = 1 drops every probability");
        assertThrows(IllegalArgumentException.class, () -> F.scaledDotProductAttention(q, k, v, null, 1.5, false, null));
    }

    @Test
    void multiheadAttentionWithAFullyPaddedSequenceIsFiniteWithoutWeightsAsPyTorch25() {
        // batch item 1 is all padding: without weights (PyTorch 2.5 on runs its safe SDPA) its
        // attention is 0, so every output row is out_proj's bias, in training (the math path) and in
        // eval (the fused op), and the gradients are finite; with weights the softmax is NaN, as PyTorch's
        Kiln.manualSeed(5);
        dev.kiln.eager.nn.MultiheadAttention m = new dev.kiln.eager.nn.MultiheadAttention(8, 2, 0.0, true, true);
        Tensor x = Tensor.randn(2, 5, 8).requiresGrad(true);
        Tensor pad = Tensor.of(new boolean[] {false, false, false, true, true, true, true, true, true, true}, 2, 5);
        double[] bias = m.namedParameters().get("out_proj.bias").toDoubleArray();
        for (boolean training : new boolean[] {true, false}) {
            if (training) m.train();
            else m.eval();
            Tensor out = m.forward(x, x, x, pad, false, null, true).output();
            double[] o = out.toDoubleArray();
            for (int i = 0; i < o.length; i++) {
                assertTrue(Double.isFinite(o[i]), "training " + training + " element " + i);
                if (i >= 40) assertEquals(bias[i % 8], o[i], 1e-6, "training " + training + ": a padded sequence's row is out_proj's bias");
            }
            if (training) {
                out.sum().backward();
                for (var e : m.namedParameters().entrySet()) {
                    for (double g : e.getValue().grad().toDoubleArray()) assertTrue(Double.isFinite(g), "the gradient of " + e.getKey() + " is finite");
                }
                for (double g : x.grad().toDoubleArray()) assertTrue(Double.isFinite(g), "x's gradient is finite");
            }
        }
        m.train();
        double[] withWeights = m.forward(x, x, x, pad, true, null, true).output().toDoubleArray();
        for (int i = 0; i < withWeights.length; i++) assertEquals(i >= 40, Double.isNaN(withWeights[i]), "with weights, element " + i);
    }

    @Test
    void aRowWithNoKeyLeftIsZeroANaNScoreIsNaNAndBadShapesAreNamed() {
        Tensor q = Tensor.randn(1, 2, 4), k = Tensor.randn(1, 3, 4), v = Tensor.randn(1, 3, 5);
        Tensor none = Tensor.of(new boolean[] {true, true, false, false, false, false}, 2, 3);
        float[] out = F.scaledDotProductAttention(q, k, v, none, 0, false, null).toFloatArray();
        for (int c = 0; c < 5; c++) assertTrue(Float.isFinite(out[c]) && out[c] != 0 && out[5 + c] == 0, "row 1 attends to nothing: 0, as PyTorch 2.5 on");
        // an additive mask of -inf hides as a bool one does; past the whole-row limit (1024 here) the tiled kernel says the same
        Tensor minusInf = Tensor.where(none, Tensor.zeros(2, 3), Tensor.full(Double.NEGATIVE_INFINITY, 2, 3));
        assertArrayEquals(out, F.scaledDotProductAttention(q, k, v, minusInf, 0, false, null).toFloatArray(), "an additive -inf mask");
        Tensor kl = Tensor.randn(1, 1100, 4), vl = Tensor.randn(1, 1100, 5);
        boolean[] keepRow0 = new boolean[2 * 1100];
        java.util.Arrays.fill(keepRow0, 0, 1100, true);
        Tensor hideRow1 = Tensor.of(keepRow0, 2, 1100);
        float[][] tiledOut = new float[1][];
        AttentionBackwardTest.withWholeRowKeys(1024, () -> tiledOut[0] = F.scaledDotProductAttention(q, kl, vl, hideRow1, 0, false, null).toFloatArray());
        float[] tiled = tiledOut[0];
        for (int c = 0; c < 5; c++) assertTrue(Float.isFinite(tiled[c]) && tiled[c] != 0 && tiled[5 + c] == 0, "1100 keys: row 1 is 0");
        // a float mask that needs a gradient takes the math path: the same 0 row, and finite gradients
        Tensor learned = minusInf.detach().requiresGrad(true);
        Tensor math = F.scaledDotProductAttention(q, k, v, learned, 0, false, null);
        assertArrayEquals(out, math.toFloatArray(), 1e-6f, "the math path's dead row");
        math.sum().backward();
        for (float g : learned.grad().toFloatArray()) assertTrue(Float.isFinite(g), "the mask's gradient is finite");
        // no keys at all: zeros on both paths (a softmax over nothing times nothing)
        Tensor noKeys = Tensor.zeros(2, 0).requiresGrad(true);
        Tensor empty = F.scaledDotProductAttention(q, Tensor.randn(1, 0, 4), Tensor.randn(1, 0, 5), noKeys, 0, false, null);
        assertArrayEquals(new float[10], empty.toFloatArray(), "no keys: zeros");
        assertArrayEquals(new float[10], F.scaledDotProductAttention(q, Tensor.randn(1, 0, 4), Tensor.randn(1, 0, 5)).toFloatArray(), "no keys, fused");
        float[] qn = q.toFloatArray();
        qn[4] = Float.NaN; // query 1
        float[] nan = F.scaledDotProductAttention(Tensor.of(qn, 1, 2, 4), k, v).toFloatArray();
        for (int c = 0; c < 5; c++) assertTrue(Float.isFinite(nan[c]) && Float.isNaN(nan[5 + c]), "a NaN score's row is NaN");
        RuntimeException e = assertThrows(RuntimeException.class, () -> F.scaledDotProductAttention(q, Tensor.randn(1, 3, 5), v));
        assertTrue(e.getMessage().contains("E) differ"), e.getMessage());
        e = assertThrows(RuntimeException.class, () -> F.scaledDotProductAttention(q, k, v, Tensor.ones(3, 3).to(DType.BOOL), 0, false, null));
        assertTrue(e.getMessage().contains("scaled_dot_product_attention") && e.getMessage().contains("cannot be broadcast"), e.getMessage());
    }

    @Test
    void theTiledGradientsOfARowThatSeesNoKeyAreZeroAndANaNScoreMakesItsHeadsKeyGradientsNaN() {
        // PyTorch 2.5 on: the dead row's P is 0, so it adds nothing (the three per-input ops against
        // the composite with the safe softmax, in float64). A NaN score's row is NaN at every key,
        // so P^T dO and dS^T q are NaN at every key of that head; the causal dk/dv loops skip the
        // query blocks hidden from a key, which once left keys past the row's 64-block finite.
        int l = 150, s = 150;
        Tensor q = Tensor.randn(2, l, 8).to(DType.FLOAT64), k = Tensor.randn(2, s, 8).to(DType.FLOAT64), v = Tensor.randn(2, s, 8).to(DType.FLOAT64);
        Tensor go = Tensor.randn(2, l, 8).to(DType.FLOAT64);
        boolean[] keep = new boolean[2 * l * s];
        java.util.Arrays.fill(keep, true);
        for (int j = 0; j < s; j++) keep[70 * s + j] = false; // head 0, query 70: no key at all
        Tensor mask = Tensor.of(keep, 2, l, s);
        double[] qn = q.toDoubleArray();
        qn[(l + 70) * 8] = Double.NaN; // head 1, query 70
        Tensor nanQ = Tensor.of(qn, 2, l, 8);
        for (boolean causal : new boolean[] {false, true}) {
            Tensor out = NnPrimitives.scaledDotProductAttention(q, k, v, mask, causal, null);
            Tensor[] want = AttentionBackwardTest.compositeGrads(q, k, v, mask, causal, go);
            for (int i = 0; i < 3; i++) {
                String wrt = "qkv".substring(i, i + 1);
                Tensor got = NnPrimitives.scaledDotProductAttentionGrad(wrt, q, k, v, out, go, mask, causal, null);
                assertArrayEquals(want[i].toDoubleArray(), got.toDoubleArray(), 1e-10 * (1 + want[i].abs().max().item()), "causal " + causal + " d" + wrt);
            }
            Tensor nanOut = NnPrimitives.scaledDotProductAttention(nanQ, k, v, mask, causal, null);
            for (String wrt : new String[] {"k", "v"}) {
                double[] g = NnPrimitives.scaledDotProductAttentionGrad(wrt, nanQ, k, v, nanOut, go, mask, causal, null).toDoubleArray();
                for (int i = 0; i < g.length; i++) {
                    boolean head1 = i >= s * 8;
                    assertEquals(head1, Double.isNaN(g[i]), "causal " + causal + " d" + wrt + " element " + i + " (head " + (head1 ? 1 : 0) + ")");
                }
            }
            double[] dq = NnPrimitives.scaledDotProductAttentionGrad("q", nanQ, k, v, nanOut, go, mask, causal, null).toDoubleArray();
            for (int i = 0; i < dq.length; i++) assertEquals(i / 8 == l + 70, Double.isNaN(dq[i]), "causal " + causal + " dq element " + i);
        }
    }

    @Test
    void theForwardAndBackwardAtT4096RunInAHeapSmallerThanTheScoreMatrix() throws Exception {
        // the 4096 x 4096 f32 scores alone are 64 MiB: a JVM with 40 MiB of heap can only run an attention that never builds them
        Process p = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx40m",
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), AttentionTest.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, java.util.concurrent.TimeUnit.SECONDS), "timed out");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("attention T=4096 ok"), out);
    }

    /** The child of the test above: forward and the three gradients at T = 4096 (one head, E = 64), causal. */
    public static void main(String[] args) {
        Tensor q = Tensor.randn(1, 1, 4096, 64).requiresGrad(true), k = Tensor.randn(1, 1, 4096, 64).requiresGrad(true);
        Tensor v = Tensor.randn(1, 1, 4096, 64).requiresGrad(true);
        Tensor out = F.scaledDotProductAttention(q, k, v, null, 0, true, null);
        out.backward(Tensor.onesLike(out));
        if (q.grad() == null || k.grad() == null || v.grad() == null) throw new AssertionError("no gradients");
        System.out.println("attention T=4096 ok, max heap " + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB");
    }
}
