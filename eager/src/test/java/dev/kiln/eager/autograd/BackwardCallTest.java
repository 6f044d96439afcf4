package dev.kiln.eager.autograd;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.eager.Tensor;
import org.junit.jupiter.api.Test;

/** The forms of {@code backward(...)} and their errors. */
class BackwardCallTest {

    @Test
    void nonScalarWithoutGradientIsAClearError() {
        Tensor x = Tensor.of(new double[] {1, 2, 3}).requiresGrad(true);
        Tensor y = x.mul(2.0);
        var e = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(e.getMessage().contains("only for scalar outputs"), e.getMessage());
        assertTrue(e.getMessage().contains("f64[3]"), "names the offending shape: " + e.getMessage());
        assertNull(x.grad());
    }

    @Test
    void backwardWithAGradientIsAVectorJacobianProduct() {
        Tensor x = Tensor.of(new double[] {1, 2, 3}).requiresGrad(true);
        Tensor y = x.mul(x);
        y.backward(Tensor.of(new double[] {1, 0.5, -1}));
        // v * 2x
        assertArrayEquals(new double[] {2, 2, -6}, x.grad().toDoubleArray());
    }

    @Test
    void gradientOfTheWrongShapeIsRefused() {
        Tensor y = Tensor.of(new double[] {1, 2, 3}).requiresGrad(true).mul(2.0);
        var e = assertThrows(IllegalArgumentException.class, () -> y.backward(Tensor.of(new double[] {1, 1})));
        assertTrue(e.getMessage().contains("does not match"), e.getMessage());
    }

    @Test
    void secondBackwardWithoutRetainGraphFails() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor loss = x.exp().sum();
        loss.backward();
        var e = assertThrows(IllegalStateException.class, loss::backward);
        assertTrue(e.getMessage().contains("second time"), e.getMessage());
        assertTrue(e.getMessage().contains("retainGraph"), e.getMessage());
    }

    @Test
    void retainGraphAllowsASecondBackwardThatAccumulates() {
        Tensor x = Tensor.of(new double[] {0, 1}).requiresGrad(true);
        Tensor loss = x.exp().sum();
        loss.backward(null, true, false);
        loss.backward(null, true, false);
        assertArrayEquals(new double[] {2, 2 * Math.E}, x.grad().toDoubleArray(), 1e-12);
    }

    @Test
    void nodesThatSaveNothingCanBeRunTwice() {
        // PyTorch 1.13: y = (x + 1).sum(); y.backward(); y.backward() works, x.grad = [2, 2]
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor y = x.add(1.0).sum();
        y.backward();
        y.backward();
        assertArrayEquals(new double[] {2, 2}, x.grad().toDoubleArray());
    }

    @Test
    void backwardOnATensorWithoutGradIsRefused() {
        Tensor c = Tensor.of(new double[] {1, 2}).sum();
        var e = assertThrows(IllegalStateException.class, c::backward);
        assertTrue(e.getMessage().contains("does not require grad"), e.getMessage());
    }

    @Test
    void backwardOnALeafAccumulatesTheSeed() {
        Tensor x = Tensor.of(new double[] {3}).requiresGrad(true);
        x.backward();
        assertEquals(1.0, x.grad().item());
    }

    @Test
    void createGraphMakesTheLeafGradDifferentiable() {
        Tensor x = Tensor.of(new double[] {2}).requiresGrad(true);
        x.pow(3.0).backward(null, true, true);
        Tensor g = x.grad();
        assertEquals(12.0, g.item(), 1e-12);
        assertNotNull(g.gradFn(), "with createGraph the grad keeps its history");
        // d/dx 3x^2 = 6x = 12, computed from the grad itself
        Tensor[] gg = Autograd.grad(g, x);
        assertEquals(12.0, gg[0].item(), 1e-12);
    }

    /** A float64 seed for a float32 output is cast, as PyTorch's engine casts it: the same gradients as a float32 seed. */
    @Test
    void aSeedOfAnotherFloatDtypeIsCastToItsOutputs() {
        Tensor x = Tensor.randn(2, 3, 4).requiresGrad(true), w = Tensor.randn(5, 4).requiresGrad(true); // matmul refuses mixed dtypes: the seed must be cast
        Tensor seed = Tensor.randn(2, 3, 5);
        x.matmul(w.t()).backward(seed);
        float[] dx = x.grad().toFloatArray(), dw = w.grad().toFloatArray();
        x.setGrad(null);
        w.setGrad(null);
        x.matmul(w.t()).backward(seed.to(dev.kiln.backend.DType.FLOAT64));
        org.junit.jupiter.api.Assertions.assertEquals(dev.kiln.backend.DType.FLOAT32, x.grad().dtype());
        org.junit.jupiter.api.Assertions.assertArrayEquals(dx, x.grad().toFloatArray(), 0f);
        org.junit.jupiter.api.Assertions.assertArrayEquals(dw, w.grad().toFloatArray(), 0f);
    }
}
