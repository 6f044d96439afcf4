package dev.kiln.eager.autograd;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.eager.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Gradients where the function is not differentiable, and at extreme magnitudes. Every expected
 * value here was checked against PyTorch 1.13 (values quoted in the comments).
 */
class KinkConventionTest {

    private static Tensor leaf(double... v) { return Tensor.of(v, v.length).requiresGrad(true); }

    @Test
    void reluAtZeroIsZero() {
        Tensor x = leaf(-1, 0, 2);
        x.relu().sum().backward();
        assertArrayEquals(new double[] {0, 0, 1}, x.grad().toDoubleArray());
    }

    @Test
    void absAtZeroIsZero() {
        Tensor x = leaf(-3, 0, 2);
        x.abs().sum().backward();
        assertArrayEquals(new double[] {-1, 0, 1}, x.grad().toDoubleArray());
    }

    @Test
    void sqrtAtZeroIsInfinite() {
        Tensor x = leaf(0, 4);
        x.sqrt().sum().backward();
        assertEquals(Double.POSITIVE_INFINITY, x.grad().toDoubleArray()[0]);
        assertEquals(0.25, x.grad().toDoubleArray()[1]);
    }

    @Test
    void maximumAndMinimumSplitTiesInHalf() {
        // torch: maximum([1, 2], [1, 1]) -> a.grad [0.5, 1], b.grad [0.5, 0]
        Tensor a = leaf(1, 2), b = leaf(1, 1);
        a.maximum(b).sum().backward();
        assertArrayEquals(new double[] {0.5, 1}, a.grad().toDoubleArray());
        assertArrayEquals(new double[] {0.5, 0}, b.grad().toDoubleArray());

        Tensor c = leaf(1, 2), d = leaf(1, 1);
        c.minimum(d).sum().backward();
        assertArrayEquals(new double[] {0.5, 0}, c.grad().toDoubleArray());
        assertArrayEquals(new double[] {0.5, 1}, d.grad().toDoubleArray());
    }

    @Test
    void amaxSplitsEvenlyAmongTies() {
        // torch: [3, 1, 3, 3].amax() -> grad [1/3, 0, 1/3, 1/3]
        Tensor x = leaf(3, 1, 3, 3);
        x.amax().backward();
        double t = 1.0 / 3;
        assertArrayEquals(new double[] {t, 0, t, t}, x.grad().toDoubleArray(), 1e-15);
    }

    @Test
    void amaxAlongADimSplitsPerRow() {
        // torch: [[3, 1, 3], [0, 2, 1]].amax(1).sum() -> [[0.5, 0, 0.5], [0, 1, 0]]
        Tensor x = Tensor.of(new double[] {3, 1, 3, 0, 2, 1}, 2, 3).requiresGrad(true);
        x.amax(new int[] {1}, false).sum().backward();
        assertArrayEquals(new double[] {0.5, 0, 0.5, 0, 1, 0}, x.grad().toDoubleArray());
    }

    @Test
    void aminSplitsEvenlyToo() {
        Tensor x = leaf(0, 5, 0);
        x.amin().backward();
        assertArrayEquals(new double[] {0.5, 0, 0.5}, x.grad().toDoubleArray());
    }

    @Test
    void clampPassesTheGradientAtItsBounds() {
        // torch: clamp([-1, 0, 0.5, 1, 2], -1, 1) -> grad [1, 1, 1, 1, 0]
        Tensor x = leaf(-1, 0, 0.5, 1, 2);
        x.clamp(-1, 1).sum().backward();
        assertArrayEquals(new double[] {1, 1, 1, 1, 0}, x.grad().toDoubleArray());
        Tensor y = leaf(-2, 0);
        y.clampMin(0).sum().backward();
        assertArrayEquals(new double[] {0, 1}, y.grad().toDoubleArray());
    }

    @Test
    void powWithExponentZeroHasZeroGradientEvenAtZero() {
        // torch: [0, 2].pow(0).sum() -> grad [0, 0] (not 0 * 0^-1 = nan)
        Tensor x = leaf(0, 2);
        x.pow(0.0).sum().backward();
        assertArrayEquals(new double[] {0, 0}, x.grad().toDoubleArray());
    }

    @Test
    void prodHandlesZerosExactly() {
        // torch: [0, 2, 3].prod() -> grad [6, 0, 0]; [0, 0, 3].prod() -> grad [0, 0, 0]
        Tensor x = leaf(0, 2, 3);
        x.prod().backward();
        assertArrayEquals(new double[] {6, 0, 0}, x.grad().toDoubleArray());
        Tensor y = leaf(0, 0, 3);
        y.prod().backward();
        assertArrayEquals(new double[] {0, 0, 0}, y.grad().toDoubleArray());
    }

    @Test
    void whereGivesTheUnselectedBranchExactlyZero() {
        // torch: x = [-1, 4]; s = x.sqrt(); where(x > 0, s, 0).sum().backward()
        // -> s.grad [0, 1], x.grad [nan, 0.25]: where itself sends 0, but sqrt's backward at -1
        // is 0 / (2 * nan) = nan, which PyTorch propagates too
        Tensor x = leaf(-1, 4);
        Tensor s = x.sqrt().retainGrad();
        Tensor.where(x.gt(0.0), s, Tensor.scalar(0, dev.kiln.backend.DType.FLOAT64)).sum().backward();
        assertArrayEquals(new double[] {0, 1}, s.grad().toDoubleArray());
        assertTrue(Double.isNaN(x.grad().toDoubleArray()[0]));
        assertEquals(0.25, x.grad().toDoubleArray()[1]);
    }

    @Test
    void whereWithASafeInputGivesFiniteGradients() {
        // the "double where" idiom keeps the NaN out: feed sqrt only positive values
        Tensor x = leaf(-1, 4);
        Tensor pos = x.gt(0.0);
        Tensor safe = Tensor.where(pos, x, Tensor.onesLike(x));
        Tensor.where(pos, safe.sqrt(), Tensor.zerosLike(x)).sum().backward();
        assertArrayEquals(new double[] {0, 0.25}, x.grad().toDoubleArray());
    }

    @Test
    void whereSendsGradientToBothBranchesByCondition() {
        Tensor a = leaf(1, 2, 3), b = leaf(4, 5, 6);
        Tensor cond = Tensor.of(new boolean[] {true, false, true}, 3);
        Tensor.where(cond, a, b).mul(Tensor.of(new double[] {10, 20, 30})).sum().backward();
        assertArrayEquals(new double[] {10, 0, 30}, a.grad().toDoubleArray());
        assertArrayEquals(new double[] {0, 20, 0}, b.grad().toDoubleArray());
    }

    @Test
    void logsumexpIsStableAndItsGradientIsSoftmaxForHugeLogits() {
        // torch (float32): logsumexp([1e4, 1e4-1, 1e4-2, -1e4]) = 10000.4072265625. The gradient is
        // softmax(x) = [0.6652409434, 0.2447284758, 0.0900305733, 0] (torch's softmax of the same
        // logits). torch's own logsumexp backward, exp(x - lse), gives [0.66549, 0.24482, 0.09006, 0]:
        // its lse is rounded to float32 (spacing 2^-10 at 1e4), which shifts every term by ~4e-4
        // relative. Kiln's composite (max subtracted before exp) stays within 1e-6 of softmax.
        Tensor x = Tensor.of(new float[] {1e4f, 1e4f - 1, 1e4f - 2, -1e4f}, 4).requiresGrad(true);
        Tensor l = x.logsumexp(new int[] {0}, false);
        assertEquals(10000.4072265625, l.item(), 1e-3);
        l.backward();
        assertArrayEquals(new float[] {0.6652409434f, 0.2447284758f, 0.0900305733f, 0f}, x.grad().toFloatArray(), 1e-6f);
        for (float g : x.grad().toFloatArray()) assertTrue(Float.isFinite(g));
    }

    @Test
    void softmaxGradientIsFiniteForHugeLogits() {
        // torch (float32): s = softmax([1e4, 1e4-1, 1e4-2, -1e4]); (s * [1, 2, 3, 4]).sum().backward()
        // -> s [0.6652409434, 0.2447284758, 0.0900305733, 0], grad [-0.2825874686, 0.1407703459, 0.1418170929, 0]
        Tensor x = Tensor.of(new float[] {1e4f, 1e4f - 1, 1e4f - 2, -1e4f}, 4).requiresGrad(true);
        Tensor s = x.softmax(0);
        assertArrayEquals(new float[] {0.6652409434f, 0.2447284758f, 0.0900305733f, 0f}, s.toFloatArray(), 1e-6f);
        s.mul(Tensor.of(new float[] {1, 2, 3, 4}, 4)).sum().backward();
        assertArrayEquals(new float[] {-0.2825874686f, 0.1407703459f, 0.1418170929f, 0f}, x.grad().toFloatArray(), 1e-6f);
    }

    @Test
    void logSoftmaxGradientIsFiniteForHugeLogits() {
        // d/dx sum(w * log_softmax(x)) = w - softmax(x) * sum(w)
        Tensor x = Tensor.of(new double[] {1e4, -1e4, 0}, 3).requiresGrad(true);
        x.logSoftmax(0).mul(Tensor.of(new double[] {1, 0, 0})).sum().backward();
        assertArrayEquals(new double[] {0, 0, 0}, x.grad().toDoubleArray(), 1e-12);
    }
}
