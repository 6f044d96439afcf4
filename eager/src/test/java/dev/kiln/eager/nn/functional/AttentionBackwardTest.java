package dev.kiln.eager.nn.functional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * scaled_dot_product_attention_backward, the one-pass gradient of a self-attention (q, k and v of
 * one shape): against the composite form's gradients (matmul and softmax rules) in float64 and
 * against the three tiled per-input gradient ops in float32, at lengths around its 64-row blocks
 * and past the whole-row limit where it falls back to tiles (lowered to 1024 keys here), head dims 8, 64 and 80, causal or not,
 * with bool and float masks; a row that sees no key 0 and NaN where PyTorch 2.5 on has NaN; q, k and v read in place from one
 * projection giving the bits of contiguous copies; a float64 gradcheck through the rule.
 */
class AttentionBackwardTest {
    private static Tensor[] stacked(Tensor all) { return new Tensor[] {all.select(0, 0), all.select(0, 1), all.select(0, 2)}; }

    @Test
    void matchesTheCompositeGradientsInFloat64AndTheTiledOpsInFloat32() {
        Kiln.manualSeed(11);
        // 15 and 16 queries: either side of where the whole-row kernels start transposing k and v
        int[][] sizes = {{1, 8}, {7, 8}, {15, 8}, {16, 8}, {63, 64}, {64, 8}, {65, 80}, {129, 64}, {200, 16}};
        for (int[] z : sizes) {
            int t = z[0], e = z[1];
            Tensor q = Tensor.randn(2, 3, t, e).to(DType.FLOAT64), k = Tensor.randn(2, 3, t, e).to(DType.FLOAT64), v = Tensor.randn(2, 3, t, e).to(DType.FLOAT64);
            Tensor go = Tensor.randn(2, 3, t, e).to(DType.FLOAT64);
            Tensor keep = Tensor.rand(t, t).gt(0.3).logicalOr(Tensor.eye(t).to(DType.BOOL)); // every row keeps its own key, causal or not
            Tensor add = Tensor.randn(3, t, t).to(DType.FLOAT64);
            for (boolean causal : new boolean[] {false, true}) {
                for (Tensor mask : new Tensor[] {null, keep, add}) {
                    String at = "T=" + t + " E=" + e + " causal " + causal + " mask " + (mask == null ? "none" : mask.dtype().shortName());
                    Tensor[] want = compositeGrads(q, k, v, mask, causal, go);
                    Tensor[] got = stacked(NnPrimitives.scaledDotProductAttentionBackward(q, k, v, go, mask, causal, null));
                    for (int i = 0; i < 3; i++) {
                        assertArrayEquals(want[i].toDoubleArray(), got[i].toDoubleArray(), 1e-10 * (1 + want[i].abs().max().item()), "d" + "qkv".charAt(i) + " " + at);
                    }
                    Tensor q32 = q.to(DType.FLOAT32), k32 = k.to(DType.FLOAT32), v32 = v.to(DType.FLOAT32), go32 = go.to(DType.FLOAT32);
                    Tensor m32 = mask == null || mask.dtype() == DType.BOOL ? mask : mask.to(DType.FLOAT32);
                    Tensor out = NnPrimitives.scaledDotProductAttention(q32, k32, v32, m32, causal, null);
                    Tensor[] one = stacked(NnPrimitives.scaledDotProductAttentionBackward(q32, k32, v32, go32, m32, causal, null));
                    for (int i = 0; i < 3; i++) {
                        Tensor tiled = NnPrimitives.scaledDotProductAttentionGrad("qkv".substring(i, i + 1), q32, k32, v32, out, go32, m32, causal, null);
                        assertTrue(one[i].allclose(tiled, 1e-4, 1e-5), "f32 d" + "qkv".charAt(i) + " " + at + ": max diff " + one[i].sub(tiled).abs().max().item());
                    }
                }
            }
        }
    }

    /**
     * q, k, v's gradients through matmul, softmax and their own rules, with PyTorch's safe softmax
     * (2.5 on): a row whose scores are all -inf is 0, and its gradient 0.
     */
    static Tensor[] compositeGrads(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, Tensor go) {
        Tensor[] in = {q.detach().requiresGrad(true), k.detach().requiresGrad(true), v.detach().requiresGrad(true)};
        Tensor s = in[0].matmul(in[1].transpose(-2, -1)).mul(1 / Math.sqrt(q.shape(-1)));
        if (causal) s = s.maskedFill(Tensor.onesLike(s).tril().to(DType.BOOL).logicalNot(), Double.NEGATIVE_INFINITY);
        if (mask != null && mask.dtype() == DType.BOOL) s = s.maskedFill(mask.logicalNot(), Double.NEGATIVE_INFINITY);
        else if (mask != null) s = s.add(mask);
        F.safeSoftmax(s, -1).matmul(in[2]).backward(go);
        return new Tensor[] {in[0].grad(), in[1].grad(), in[2].grad()};
    }

    @Test
    void withFewHeadsTheQueryBlocksSplitIntoGroupsWhoseSumsMatchTheComposite() {
        // one head (up to 8 groups of query blocks) and three heads (2 groups each): each group sums
        // its own dk and dv, added in group order; against the composite in float64, causal or
        // not, with a bool mask, at lengths where the groups are uneven
        Kiln.manualSeed(14);
        for (int[] z : new int[][] {{1, 200}, {1, 513}, {3, 200}, {1, 65}}) {
            int heads = z[0], t = z[1];
            Tensor q = Tensor.randn(heads, t, 16).to(DType.FLOAT64), k = Tensor.randn(heads, t, 16).to(DType.FLOAT64);
            Tensor v = Tensor.randn(heads, t, 16).to(DType.FLOAT64), go = Tensor.randn(heads, t, 16).to(DType.FLOAT64);
            Tensor keep = Tensor.rand(t, t).gt(0.3).logicalOr(Tensor.eye(t).to(DType.BOOL));
            for (boolean causal : new boolean[] {false, true}) {
                for (Tensor mask : new Tensor[] {null, keep}) {
                    Tensor[] want = compositeGrads(q, k, v, mask, causal, go);
                    Tensor[] got = stacked(NnPrimitives.scaledDotProductAttentionBackward(q, k, v, go, mask, causal, null));
                    for (int i = 0; i < 3; i++) {
                        assertArrayEquals(want[i].toDoubleArray(), got[i].toDoubleArray(), 1e-10 * (1 + want[i].abs().max().item()),
                                "d" + "qkv".charAt(i) + " heads " + heads + " T=" + t + " causal " + causal + " mask " + (mask != null));
                    }
                }
            }
        }
    }

    @Test
    void atBatch64TheGptsShapesMatchTheCompositeAndTheTiledOps() {
        // the demo GPT's attention, [64, 4, 128, 32] causal, in float32 against the three tiled
        // per-input ops; and [64, 4, 65, 32] (one query past a block) in float64 against the
        // composite, causal with a bool mask: the tasks (one per head) cross the batch
        Kiln.manualSeed(13);
        Tensor q = Tensor.randn(64, 4, 128, 32), k = Tensor.randn(64, 4, 128, 32), v = Tensor.randn(64, 4, 128, 32), go = Tensor.randn(64, 4, 128, 32);
        Tensor out = NnPrimitives.scaledDotProductAttention(q, k, v, null, true, null);
        Tensor[] one = stacked(NnPrimitives.scaledDotProductAttentionBackward(q, k, v, go, null, true, null));
        for (int i = 0; i < 3; i++) {
            Tensor tiled = NnPrimitives.scaledDotProductAttentionGrad("qkv".substring(i, i + 1), q, k, v, out, go, null, true, null);
            assertTrue(one[i].allclose(tiled, 1e-4, 1e-5), "f32 d" + "qkv".charAt(i) + ": max diff " + one[i].sub(tiled).abs().max().item());
        }
        Tensor q64 = Tensor.randn(64, 4, 65, 32).to(DType.FLOAT64), k64 = Tensor.randn(64, 4, 65, 32).to(DType.FLOAT64);
        Tensor v64 = Tensor.randn(64, 4, 65, 32).to(DType.FLOAT64), go64 = Tensor.randn(64, 4, 65, 32).to(DType.FLOAT64);
        Tensor keep = Tensor.rand(64, 1, 65, 65).gt(0.2);
        Tensor[] want = compositeGrads(q64, k64, v64, keep, true, go64);
        Tensor[] got = stacked(NnPrimitives.scaledDotProductAttentionBackward(q64, k64, v64, go64, keep, true, null));
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(want[i].toDoubleArray(), got[i].toDoubleArray(), 1e-10 * (1 + want[i].abs().max().item()), "f64 d" + "qkv".charAt(i));
        }
    }

    /**
     * Runs body with the whole-row kernels limited to {@code keys} keys (AttentionProblem's
     * kiln.attention.wholeRowKeys, 8192 by default), so small sizes reach the tiled kernels.
     */
    static void withWholeRowKeys(int keys, Runnable body) {
        String key = "kiln.attention.wholeRowKeys", before = System.getProperty(key);
        System.setProperty(key, Integer.toString(keys));
        try {
            body.run();
        } finally {
            if (before == null) System.clearProperty(key);
            else System.setProperty(key, before);
        }
    }

    @Test
    void pastTheWholeRowLimitTheTiledPassesWriteTheSameGradients() {
        // 1100 keys past a limit of 1024: each block's rows would be 1100 wide, so the op recomputes
        // the output and runs the three tiled passes into the parts; against the composite in
        // float64, over two batches of two heads, causal and not, with a bool mask and an additive one per batch
        withWholeRowKeys(1024, AttentionBackwardTest::tiledPassesMatchTheComposite);
    }

    private static void tiledPassesMatchTheComposite() {
        Kiln.manualSeed(12);
        int t = 1100;
        Tensor q = Tensor.randn(2, 2, t, 8).to(DType.FLOAT64), k = Tensor.randn(2, 2, t, 8).to(DType.FLOAT64), v = Tensor.randn(2, 2, t, 8).to(DType.FLOAT64);
        Tensor go = Tensor.randn(2, 2, t, 8).to(DType.FLOAT64);
        Tensor keep = Tensor.rand(t, t).gt(0.3).logicalOr(Tensor.eye(t).to(DType.BOOL)), add = Tensor.randn(2, 1, t, t).to(DType.FLOAT64);
        for (boolean causal : new boolean[] {false, true}) {
            for (Tensor mask : new Tensor[] {null, keep, add}) {
                Tensor[] want = compositeGrads(q, k, v, mask, causal, go);
                Tensor[] got = stacked(NnPrimitives.scaledDotProductAttentionBackward(q, k, v, go, mask, causal, null));
                for (int i = 0; i < 3; i++) {
                    assertArrayEquals(want[i].toDoubleArray(), got[i].toDoubleArray(), 1e-10 * (1 + want[i].abs().max().item()),
                            "d" + "qkv".charAt(i) + " causal " + causal + " mask " + (mask == null ? "none" : mask.dtype().shortName()));
                }
            }
        }
    }

    @Test
    void aRowThatSeesNoKeyAddsNothingWhileANaNScoreMakesItsHeadsKeyGradientsNaN() {
        // PyTorch 2.5 on (its safe softmax): the dead row's P is 0, so its dq row is 0 and it adds
        // nothing to dk and dv. A NaN score's row is NaN at every key, so dS k is NaN in its dq row
        // and P^T dO, dS^T q are NaN at every key of its head; other heads stay finite. Whole rows
        // (150 keys) and the tiled passes past a limit of 1024 keys (1100), causal or not.
        withWholeRowKeys(1024, AttentionBackwardTest::deadAndNaNRows);
    }

    private static void deadAndNaNRows() {
        for (int t : new int[] {150, 1100}) {
            Tensor q = Tensor.randn(3, t, 8).to(DType.FLOAT64), k = Tensor.randn(3, t, 8).to(DType.FLOAT64), v = Tensor.randn(3, t, 8).to(DType.FLOAT64);
            Tensor go = Tensor.randn(3, t, 8).to(DType.FLOAT64);
            boolean[] keep = new boolean[3 * t * t];
            java.util.Arrays.fill(keep, true);
            for (int j = 0; j < t; j++) keep[70 * t + j] = false; // head 0, query 70
            Tensor mask = Tensor.of(keep, 3, t, t);
            for (boolean causal : new boolean[] {false, true}) {
                String at = "T=" + t + " causal " + causal;
                Tensor[] want = compositeGrads(q, k, v, mask, causal, go);
                Tensor[] got = stacked(NnPrimitives.scaledDotProductAttentionBackward(q, k, v, go, mask, causal, null));
                for (int i = 0; i < 3; i++) {
                    double[] w = want[i].toDoubleArray(), g = got[i].toDoubleArray();
                    for (double x : w) assertTrue(Double.isFinite(x), "the composite is finite: " + at);
                    assertArrayEquals(w, g, 1e-10 * (1 + want[i].abs().max().item()), "d" + "qkv".charAt(i) + " " + at);
                }
                for (int c = 0; c < 8; c++) assertEquals(0.0, got[0].toDoubleArray()[70 * 8 + c], "the dead row's dq is 0: " + at);
                double[] qn = q.toDoubleArray();
                qn[(2 * t + 5) * 8] = Double.NaN; // head 2, query 5
                double[] all = NnPrimitives.scaledDotProductAttentionBackward(Tensor.of(qn, 3, t, 8), k, v, go, mask, causal, null).toDoubleArray();
                int part = 3 * t * 8;
                for (int i = 0; i < part; i++) {
                    int head = i / (t * 8), row = i % (t * 8) / 8;
                    assertEquals(head == 2 && row == 5, Double.isNaN(all[i]), at + " dq element " + i);
                    for (int g = 1; g <= 2; g++) assertEquals(head == 2, Double.isNaN(all[g * part + i]), at + " d" + "kv".charAt(g - 1) + " element " + i);
                }
            }
        }
    }

    @Test
    void viewsOfOneProjectionGiveTheBitsOfContiguousCopies() {
        // q, k and v as the GPT slices them from one [B, T, 3C] projection: read in place, row
        // stride 3C, against the same values copied contiguous first
        Kiln.manualSeed(13);
        for (int t : new int[] {65, 128}) {
            Tensor qkv = Tensor.randn(3, t, 3 * 64), g = Tensor.randn(3, t, 64);
            List<Tensor> parts = qkv.split(64, 2);
            Tensor[] views = new Tensor[3], copies = new Tensor[3];
            for (int i = 0; i < 3; i++) {
                views[i] = parts.get(i).view(3, t, 2, 32).transpose(1, 2);
                copies[i] = views[i].contiguous();
            }
            Tensor goView = g.view(3, t, 2, 32).transpose(1, 2);
            for (boolean causal : new boolean[] {false, true}) {
                assertArrayEquals(NnPrimitives.scaledDotProductAttention(copies[0], copies[1], copies[2], null, causal, null).toFloatArray(),
                        NnPrimitives.scaledDotProductAttention(views[0], views[1], views[2], null, causal, null).toFloatArray(), "forward T=" + t);
                assertArrayEquals(NnPrimitives.scaledDotProductAttentionBackward(copies[0], copies[1], copies[2], goView.contiguous(), null, causal, null).toFloatArray(),
                        NnPrimitives.scaledDotProductAttentionBackward(views[0], views[1], views[2], goView, null, causal, null).toFloatArray(), "backward T=" + t);
            }
        }
    }

    @Test
    void theRuleTakesItForASelfAttentionAndGradcheckPasses() {
        Kiln.manualSeed(14);
        Tensor q = Tensor.randn(1, 2, 6, 3).to(DType.FLOAT64).requiresGrad(true), k = Tensor.randn(1, 2, 6, 3).to(DType.FLOAT64).requiresGrad(true);
        Tensor v = Tensor.randn(1, 2, 6, 3).to(DType.FLOAT64).requiresGrad(true);
        Tensor keep = Tensor.rand(6, 6).gt(0.3).logicalOr(Tensor.eye(6).to(DType.BOOL));
        assertTrue(Autograd.gradcheck(in -> F.scaledDotProductAttention(in[0], in[1], in[2], null, 0, true, null), q, k, v));
        assertTrue(Autograd.gradcheck(in -> F.scaledDotProductAttention(in[0], in[1], in[2], keep, 0, false, 0.6), q, k, v));
        // the rule's stacked gradients equal the op's
        Tensor go = Tensor.randn(1, 2, 6, 3).to(DType.FLOAT64);
        Tensor[] viaRule = AttentionTest.grads(F.scaledDotProductAttention(q, k, v, null, 0, true, null), go, q, k, v);
        Tensor[] direct = stacked(NnPrimitives.scaledDotProductAttentionBackward(q.detach(), k.detach(), v.detach(), go, null, true, null));
        for (int i = 0; i < 3; i++) assertArrayEquals(direct[i].toDoubleArray(), viaRule[i].toDoubleArray(), 0.0);
    }

    @Test
    void otherShapesAreRefusedNamingTheOp() {
        Tensor q = Tensor.randn(1, 4, 8), k = Tensor.randn(1, 5, 8), v = Tensor.randn(1, 5, 8);
        RuntimeException e = assertThrows(RuntimeException.class, () -> NnPrimitives.scaledDotProductAttentionBackward(q, k, v, Tensor.randn(1, 4, 8), null, false, null));
        assertTrue(e.getMessage().contains("scaled_dot_product_attention_backward") && e.getMessage().contains("one type"), e.getMessage());
        e = assertThrows(RuntimeException.class, () -> NnPrimitives.scaledDotProductAttentionBackward(q, q, q, Tensor.randn(1, 4, 7), null, false, null));
        assertTrue(e.getMessage().contains("output gradient"), e.getMessage());
    }
}
