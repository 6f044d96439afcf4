package dev.kiln.eager.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.functional.CrossEntropyOptions;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.nn.functional.NnPrimitives;
import dev.kiln.eager.nn.functional.Reduction;
import org.junit.jupiter.api.Test;

/** Float64 finite-difference checks of every nn primitive and F function on small shapes. */
class NnGradcheckTest {
    /** Deterministic, irregular values (no ties, no zeros) so max pooling and ReLU-like kinks are avoided. */
    static Tensor t(int... shape) {
        int n = 1;
        for (int s : shape) n *= s;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = Math.sin(1.3 * i + 0.7) + 0.01 * i;
        return Tensor.of(v, shape).requiresGrad(true);
    }

    @Test
    void conv2dStridePaddingDilationGroups() {
        assertTrue(Autograd.gradcheck(in -> NnPrimitives.conv2d(in[0], in[1], in[2], new int[] {2, 1}, new int[] {1, 2}, new int[] {1, 2}, 2),
                t(2, 4, 5, 6), t(4, 2, 3, 2), t(4)));
    }

    @Test
    void conv2dSecondOrder() {
        assertTrue(Autograd.gradgradcheck(in -> NnPrimitives.conv2d(in[0], in[1], null, new int[] {2, 2}, new int[] {1, 1}, new int[] {1, 1}, 1),
                t(1, 2, 5, 5), t(3, 2, 3, 3)));
    }

    @Test
    void convTranspose2dWithOutputPadding() {
        assertTrue(Autograd.gradcheck(in -> NnPrimitives.convTranspose2d(in[0], in[1], in[2], new int[] {2, 3}, new int[] {1, 0},
                new int[] {1, 2}, new int[] {1, 1}, 2), t(2, 4, 3, 3), t(4, 3, 3, 2), t(6)));
        // dilation larger than stride lets output_padding add a row the input never reaches
        assertTrue(Autograd.gradgradcheck(in -> NnPrimitives.convTranspose2d(in[0], in[1], null, new int[] {1, 1}, new int[] {0, 0},
                new int[] {1, 0}, new int[] {2, 1}, 1), t(1, 2, 3, 3), t(2, 2, 2, 2)));
    }

    @Test
    void conv2dWeightGradIsDifferentiable() {
        assertTrue(Autograd.gradcheck(in -> NnPrimitives.conv2dWeightGrad(in[0], in[1], new int[] {2, 3}, new int[] {2, 1},
                new int[] {1, 1}, new int[] {1, 1}, 1), t(2, 2, 5, 4), t(2, 3, 3, 4)));
    }

    @Test
    void pools() {
        assertTrue(Autograd.gradcheck(in -> F.maxPool2d(in[0], new int[] {3, 2}, new int[] {2, 2}, new int[] {1, 1}, new int[] {1, 1}, true), t(2, 2, 5, 6)));
        assertTrue(Autograd.gradcheck(in -> F.avgPool2d(in[0], new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, true, false), t(1, 2, 6, 5)));
        assertTrue(Autograd.gradcheck(in -> F.adaptiveAvgPool2d(in[0], new int[] {3, 2}), t(2, 2, 5, 7)));
    }

    @Test
    void conv1dAndSame() {
        assertTrue(Autograd.gradcheck(in -> F.conv1d(in[0], in[1], in[2], 2, 1, 1, 1), t(2, 3, 7), t(2, 3, 3), t(2)));
        assertTrue(Autograd.gradcheck(in -> F.conv2d(in[0], in[1], null, new int[] {1, 1}, "same", new int[] {1, 1}, 1), t(1, 2, 4, 4), t(2, 2, 2, 3)));
    }

    @Test
    void norms() {
        assertTrue(Autograd.gradcheck(in -> F.batchNorm(in[0], null, null, in[1], in[2], true, 0.1, 1e-5), t(3, 2, 2, 2), t(2), t(2)));
        assertTrue(Autograd.gradcheck(in -> F.layerNorm(in[0], new int[] {4}, in[1], in[2], 1e-5), t(3, 4), t(4), t(4)));
        // the layer_norm op's other forms: no affine, weight only, bias only, two normalized dims, rank = dims
        assertTrue(Autograd.gradcheck(in -> F.layerNorm(in[0], new int[] {5}, null, null, 1e-5), t(2, 3, 5)));
        assertTrue(Autograd.gradcheck(in -> F.layerNorm(in[0], new int[] {3}, in[1], null, 1e-3), t(4, 3), t(3)));
        assertTrue(Autograd.gradcheck(in -> F.layerNorm(in[0], new int[] {3}, null, in[1], 1e-5), t(4, 3), t(3)));
        assertTrue(Autograd.gradcheck(in -> F.layerNorm(in[0], new int[] {2, 3}, in[1], in[2], 1e-5), t(2, 2, 3), t(2, 3), t(2, 3)));
        assertTrue(Autograd.gradcheck(in -> F.layerNorm(in[0], new int[] {3, 4}, in[1], in[2], 1e-5), t(3, 4), t(3, 4), t(3, 4)));
        // create-graph backward takes the composite form: second derivatives through it
        assertTrue(Autograd.gradgradcheck(in -> F.layerNorm(in[0], new int[] {4}, in[1], in[2], 1e-5), t(3, 4), t(4), t(4)));
        assertTrue(Autograd.gradcheck(in -> F.groupNorm(in[0], 2, in[1], in[2], 1e-5), t(2, 4, 3), t(4), t(4)));
    }

    /** t(shape) scaled and shifted, still a leaf: q, k and v of one shape that are not equal. */
    static Tensor t(double mul, double add, int... shape) { return t(shape).detach().mul(mul).add(add).requiresGrad(true); }

    @Test
    void attentionFirstAndSecondDerivatives() {
        // cross-attention (the per-input gradient ops), a self-attention (the one-pass op) causal,
        // and a bool mask with a row that sees no key (0, no gradient): create-graph backward
        // takes the composite form, so second derivatives go through it
        Tensor add = t(-0.5, 0.2, 3, 5).detach();
        java.util.function.Function<Tensor[], Tensor> cross = in -> F.scaledDotProductAttention(in[0], in[1], in[2], add, 0, false, 0.7);
        assertTrue(Autograd.gradcheck(cross, t(1, 2, 3, 4), t(0.8, -0.1, 1, 2, 5, 4), t(1.2, 0.3, 1, 2, 5, 3)));
        assertTrue(Autograd.gradgradcheck(cross, t(1, 2, 3, 4), t(0.8, -0.1, 1, 2, 5, 4), t(1.2, 0.3, 1, 2, 5, 3)));
        java.util.function.Function<Tensor[], Tensor> causal = in -> F.scaledDotProductAttention(in[0], in[1], in[2], null, 0, true, null);
        assertTrue(Autograd.gradgradcheck(causal, t(2, 4, 3), t(0.7, 0.2, 2, 4, 3), t(-1.1, 0.1, 2, 4, 3)));
        Tensor keep = Tensor.of(new boolean[] {true, false, true, true, true, true, false, true, false, false, false, false, true, true, true, false}, 4, 4);
        java.util.function.Function<Tensor[], Tensor> dead = in -> F.scaledDotProductAttention(in[0], in[1], in[2], keep, 0, false, null);
        assertTrue(Autograd.gradcheck(dead, t(2, 4, 3), t(0.7, 0.2, 2, 4, 3), t(-1.1, 0.1, 2, 4, 3)));
        assertTrue(Autograd.gradgradcheck(dead, t(2, 4, 3), t(0.7, 0.2, 2, 4, 3), t(-1.1, 0.1, 2, 4, 3)));
        // gradgradcheck compares the composite gradient with its own derivative; the composite must
        // also be the fused ops' gradient (the one-pass op for the self-attentions, the per-input ones for cross)
        for (var fn : java.util.List.of(cross, causal, dead)) {
            boolean isCross = fn == cross;
            Tensor[] in = isCross ? new Tensor[] {t(1, 2, 3, 4), t(0.8, -0.1, 1, 2, 5, 4), t(1.2, 0.3, 1, 2, 5, 3)}
                    : new Tensor[] {t(2, 4, 3), t(0.7, 0.2, 2, 4, 3), t(-1.1, 0.1, 2, 4, 3)};
            Tensor out = fn.apply(in), gout = t(0.9, -0.2, out.shape()).detach();
            Tensor[] fused = Autograd.grad(new Tensor[] {out}, in, new Tensor[] {gout}, true, false, false);
            Tensor[] composite = Autograd.grad(new Tensor[] {out}, in, new Tensor[] {gout}, false, true, false);
            for (int i = 0; i < 3; i++) {
                assertTrue(composite[i].requiresGrad(), "the create-graph gradient is differentiable");
                assertArrayEquals(fused[i].toDoubleArray(), composite[i].toDoubleArray(), 1e-12, "d" + "qkv".charAt(i) + ": create-graph equals the fused gradient");
            }
        }
    }

    @Test
    void losses() {
        Tensor target = Tensor.of(new long[] {1, 0, 2, 1}, 4);
        Tensor w = Tensor.of(new double[] {0.5, 1.0, 2.0}, 3);
        Tensor probs = t(4, 3).detach().softmax(1);
        CrossEntropyOptions o = CrossEntropyOptions.DEFAULT.withWeight(w).withLabelSmoothing(0.2).withIgnoreIndex(0);
        assertTrue(Autograd.gradcheck(in -> F.crossEntropy(in[0], target, o), t(4, 3)));
        assertTrue(Autograd.gradcheck(in -> F.crossEntropy(in[0], probs, CrossEntropyOptions.DEFAULT.withLabelSmoothing(0.1)), t(4, 3)));
        Tensor y = Tensor.of(new double[] {0.2, 0.9, 0.4, 0.7}, 4);
        assertTrue(Autograd.gradcheck(in -> F.binaryCrossEntropy(in[0].sigmoid(), y), t(4)));
        assertTrue(Autograd.gradcheck(in -> F.binaryCrossEntropyWithLogits(in[0], y, null, in[1], Reduction.SUM), t(4), t(4)));
        assertTrue(Autograd.gradcheck(in -> F.smoothL1Loss(in[0], y, Reduction.MEAN, 0.5).add(F.mseLoss(in[0], y)), t(4)));
    }

    @Test
    void linearEmbeddingDropout() {
        assertTrue(Autograd.gradcheck(in -> F.linear(in[0], in[1], in[2]), t(2, 3), t(4, 3), t(4)));
        assertTrue(Autograd.gradcheck(in -> F.linear(in[0], in[1], in[2]), t(2, 2, 3), t(4, 3), t(4)));
        Tensor idx = Tensor.of(new long[] {0, 2, 1, 2}, 2, 2);
        assertTrue(Autograd.gradcheck(in -> F.embedding(idx, in[0]), t(3, 2)));
        // the padding row keeps its value but gets no gradient (so finite differences would disagree by design)
        Tensor w = t(3, 2);
        F.embedding(idx, w, 2).sum().backward();
        assertArrayEquals(new double[] {1, 1, 1, 1, 0, 0}, w.grad().toDoubleArray());
        dev.kiln.Kiln.manualSeed(3);
        // the same draw each evaluation: reseed inside so finite differences see one mask
        assertTrue(Autograd.gradcheck(in -> {
            dev.kiln.Kiln.manualSeed(3);
            return F.dropout(in[0], 0.4, true);
        }, t(3, 4)));
    }

    @Test
    void huberAndKlDivLosses() {
        // |d| straddles delta on both sides, away from the kink
        Tensor target = t(3, 4).mul(0.5).detach();
        assertTrue(Autograd.gradcheck(in -> F.huberLoss(in[0], target, Reduction.SUM, 0.7), t(3, 4)));
        Tensor probs = t(2, 5).softmax(1).detach();
        assertTrue(Autograd.gradcheck(in -> F.klDiv(in[0].logSoftmax(1), probs, Reduction.BATCH_MEAN, false), t(2, 5)));
        assertTrue(Autograd.gradcheck(in -> F.klDiv(in[0].logSoftmax(1), in[1], Reduction.SUM, true), t(2, 5), t(2, 5).mul(0.3).detach().requiresGrad(true)));
    }
}
