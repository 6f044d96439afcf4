package dev.kiln.eager.autograd;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.eager.Tensor;
import org.junit.jupiter.api.Test;

/** In-place ops: version counters, saved-tensor checks, refused cases and rebased history. */
class InPlaceTest {

    @Test
    void modifyingASavedOutputIsDetectedAtBackward() {
        // PyTorch 1.13: "one of the variables needed for gradient computation has been modified by an
        // inplace operation: [torch.FloatTensor [3]], which is output 0 of ExpBackward0, is at version 1;
        // expected version 0 instead."
        Tensor x = Tensor.of(new double[] {0, 1, 2}).requiresGrad(true);
        Tensor y = x.exp();
        int v = y.version();
        y.add_(1.0);
        assertEquals(v + 1, y.version(), "each in-place write bumps the version once");
        var e = assertThrows(IllegalStateException.class, () -> y.sum().backward());
        String m = e.getMessage();
        assertTrue(m.contains("one of the tensors needed for gradient computation has been modified by an in-place operation"), m);
        assertTrue(m.contains("exp output f64[3]"), "names the op and the saved tensor: " + m);
        assertTrue(m.contains("is at version " + (v + 1) + "; expected version " + v), m);
    }

    @Test
    void modifyingASavedInputIsDetected() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor y = x.mul(2.0);
        Tensor z = y.mul(y);
        y.add_(1.0);
        var e = assertThrows(IllegalStateException.class, () -> z.sum().backward());
        assertTrue(e.getMessage().contains("mul input"), e.getMessage());
    }

    @Test
    void inPlaceAfterAReductionThatSavedNothingIsFine() {
        // PyTorch 1.13: y = x * 2; s = y.sum(); y.add_(1); s.backward() gives x.grad [2, 2]
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor y = x.mul(2.0);
        Tensor s = y.sum();
        y.add_(1.0);
        s.backward();
        assertArrayEquals(new double[] {2, 2}, x.grad().toDoubleArray());
    }

    @Test
    void writingThroughADetachedAliasIsDetectedToo() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor y = x.exp();
        y.detach().mul_(2.0);
        assertThrows(IllegalStateException.class, () -> y.sum().backward());
    }

    @Test
    void inPlaceOnALeafThatRequiresGradIsRefused() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        var e = assertThrows(IllegalStateException.class, () -> x.add_(1.0));
        assertTrue(e.getMessage().contains("leaf tensor that requires grad"), e.getMessage());
        assertArrayEquals(new double[] {1, 2}, x.toDoubleArray(), "nothing was written");
    }

    @Test
    void inPlaceOnALeafIsAllowedUnderNoGrad() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        try (var g = Autograd.noGrad()) {
            x.mul_(3.0);
        }
        assertArrayEquals(new double[] {3, 6}, x.toDoubleArray());
        assertTrue(x.isLeaf());
        assertTrue(x.requiresGrad());
        x.mul(x).sum().backward();
        assertArrayEquals(new double[] {6, 12}, x.grad().toDoubleArray());
    }

    @Test
    void inPlaceOnAnUnsavedNonLeafRebasesItsHistory() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor y = x.mul(2.0);
        y.add_(1.0);
        assertEquals("AddBackward", y.gradFn().name(), "y's gradFn is now the in-place op's node");
        y.mul_(3.0);
        assertEquals("MulBackward", y.gradFn().name());
        assertArrayEquals(new double[] {9, 15}, y.toDoubleArray());
        y.mul(y).sum().backward();
        // d/dx (3(2x + 1))^2 = 36(2x + 1)
        assertArrayEquals(new double[] {108, 180}, x.grad().toDoubleArray(), 1e-12);
    }

    @Test
    void inPlaceWithATensorOperandSendsGradientToBoth() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor w = Tensor.of(new double[] {5, 7}).requiresGrad(true);
        Tensor y = x.mul(x);
        y.sub_(w);
        y.div_(2.0);
        y.sum().backward();
        // y = (x^2 - w) / 2
        assertArrayEquals(new double[] {1, 2}, x.grad().toDoubleArray(), 1e-12);
        assertArrayEquals(new double[] {-0.5, -0.5}, w.grad().toDoubleArray(), 1e-12);
    }

    /**
     * Kiln computes an in-place op out of place and copies the result in, so relu_'s saved output
     * is that private result, which exp_ does not overwrite: the gradient is right. (PyTorch
     * saves the shared tensor itself and rejects this sequence.)
     */
    @Test
    void inPlaceUnaryOpsRebaseToo() {
        Tensor x = Tensor.of(new double[] {-1, 2}).requiresGrad(true);
        Tensor y = x.mul(1.0);
        y.relu_();
        y.exp_();
        y.sum().backward();
        // exp(relu(x)): 0 where x < 0, e^x elsewhere
        assertArrayEquals(new double[] {0, Math.exp(2)}, x.grad().toDoubleArray(), 1e-12);
    }

    @Test
    void fillOverwritesHistory() {
        // PyTorch 1.13: x.grad = [1, 1, 1]: the filled values no longer depend on x
        Tensor x = Tensor.of(new double[] {1, 2, 3}).requiresGrad(true);
        Tensor y = x.mul(2.0);
        y.fill_(0.0);
        y.add(x).sum().backward();
        assertArrayEquals(new double[] {1, 1, 1}, x.grad().toDoubleArray());
    }

    @Test
    void copyFromAConstantOverwritesHistory() {
        // PyTorch 1.13: y = x * 2; y.copy_([5, 5, 5]); (y * x).sum().backward() gives x.grad = [5, 5, 5]
        Tensor x = Tensor.of(new double[] {1, 2, 3}).requiresGrad(true);
        Tensor y = x.mul(2.0);
        y.copy_(Tensor.of(new double[] {5, 5, 5}));
        y.mul(x).sum().backward();
        assertArrayEquals(new double[] {5, 5, 5}, x.grad().toDoubleArray());
    }

    @Test
    void copyFromATensorThatRequiresGradTakesItsHistory() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor buf = Tensor.zeros(dev.kiln.backend.DType.FLOAT64, 2);
        buf.copy_(x.mul(4.0));
        assertTrue(buf.requiresGrad());
        buf.sum().backward();
        assertArrayEquals(new double[] {4, 4}, x.grad().toDoubleArray());
    }

    @Test
    void inPlaceOnAViewOfATensorThatRequiresGradIsRefused() {
        Tensor x = Tensor.of(new double[] {1, 2, 3, 4}).requiresGrad(true);
        Tensor y = x.mul(1.0);
        Tensor head = y.slice(0, 0, 2);
        var e = assertThrows(IllegalStateException.class, () -> head.mul_(2.0));
        assertTrue(e.getMessage().contains("view"), e.getMessage());
    }
}
