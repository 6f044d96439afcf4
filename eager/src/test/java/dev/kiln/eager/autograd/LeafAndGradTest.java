package dev.kiln.eager.autograd;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import org.junit.jupiter.api.Test;

/** Leaves, {@code grad()} accumulation, retainGrad, resetting grads and detaching. */
class LeafAndGradTest {

    @Test
    void userTensorsAreLeavesAndOpOutputsAreNot() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor c = Tensor.of(new double[] {3, 4});
        Tensor y = x.mul(c);
        assertTrue(x.isLeaf());
        assertTrue(x.requiresGrad());
        assertFalse(c.requiresGrad());
        assertFalse(y.isLeaf());
        assertTrue(y.requiresGrad(), "an op with one input requiring grad requires grad");
        // an op on tensors that need no grad records nothing
        Tensor z = c.mul(c);
        assertTrue(z.isLeaf());
        assertFalse(z.requiresGrad());
        assertNull(z.gradFn());
    }

    @Test
    void gradAccumulatesAcrossTwoBackwardCalls() {
        Tensor x = Tensor.of(new double[] {1, 2, 3}).requiresGrad(true);
        // d/dx sum(x*x) = 2x
        x.mul(x).sum().backward();
        assertArrayEquals(new double[] {2, 4, 6}, x.grad().toDoubleArray());
        // a fresh graph: d/dx sum(3x) = 3, added to what was there
        x.mul(3.0).sum().backward();
        assertArrayEquals(new double[] {5, 7, 9}, x.grad().toDoubleArray());
    }

    @Test
    void retainGradFollowsAnInPlaceOp() {
        // PyTorch 1.13: h = x * 1; h.retain_grad(); h.mul_(2); (h * 3).sum().backward()
        // -> h.grad [3, 3] (the gradient of h's current value), x.grad [6, 6]
        Tensor x = Tensor.of(new double[] {1, 1}).requiresGrad(true);
        Tensor h = x.mul(1.0).retainGrad();
        h.mul_(2.0);
        h.mul(3.0).sum().backward();
        assertArrayEquals(new double[] {3, 3}, h.grad().toDoubleArray());
        assertArrayEquals(new double[] {6, 6}, x.grad().toDoubleArray());
    }

    @Test
    void retainGradOnATensorWithoutGradIsRefused() {
        // PyTorch: "can't retain_grad on Tensor that has requires_grad=False"
        Tensor c = Tensor.of(new double[] {1, 2});
        var e = assertThrows(IllegalStateException.class, c::retainGrad);
        assertTrue(e.getMessage().contains("does not require grad"), e.getMessage());
    }

    @Test
    void setGradNullResetsLikeZeroGrad() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        x.mul(x).sum().backward();
        assertNotNull(x.grad());
        x.setGrad(null);
        assertNull(x.grad());
        x.mul(5.0).sum().backward();
        // no stale contribution from the first backward
        assertArrayEquals(new double[] {5, 5}, x.grad().toDoubleArray());
    }

    @Test
    void nonLeafGradIsNotKeptUnlessRetained() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor h = x.mul(2.0);
        Tensor k = x.mul(3.0).retainGrad();
        h.mul(k).sum().backward();
        assertNull(h.grad(), "non-leaf grads are dropped by default, as in PyTorch");
        // d(h*k)/dk = h = 2x
        assertArrayEquals(new double[] {2, 4}, k.grad().toDoubleArray());
        // d/dx (2x * 3x) = 12x
        assertArrayEquals(new double[] {12, 24}, x.grad().toDoubleArray());
    }

    @Test
    void retainedGradAccumulatesWithRetainGraph() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor h = x.mul(x).retainGrad();
        Tensor loss = h.mul(4.0).sum();
        loss.backward(null, true, false);
        loss.backward(null, false, false);
        assertArrayEquals(new double[] {8, 8}, h.grad().toDoubleArray());
        assertArrayEquals(new double[] {16, 32}, x.grad().toDoubleArray());
    }

    @Test
    void gradsOfDifferentTensorsDoNotShareStorage() {
        // an add sends the same gradient tensor to both inputs; an optimizer scaling one .grad in
        // place must not change the other (PyTorch 1.13: a.grad [2, 2], b.grad [1, 1])
        Tensor a = Tensor.of(new double[] {1, 1}).requiresGrad(true);
        Tensor b = Tensor.of(new double[] {1, 1}).requiresGrad(true);
        a.add(b).sum().backward();
        a.grad().mul_(2.0);
        assertArrayEquals(new double[] {2, 2}, a.grad().toDoubleArray());
        assertArrayEquals(new double[] {1, 1}, b.grad().toDoubleArray());
    }

    @Test
    void retainedGradDoesNotShareStorageWithALeafGrad() {
        // the add sends one gradient tensor to h and to b: b.grad.mul_(3) must leave h.grad alone
        Tensor a = Tensor.of(new double[] {1, 1}).requiresGrad(true);
        Tensor b = Tensor.of(new double[] {1, 1}).requiresGrad(true);
        Tensor h = a.mul(1.0).retainGrad();
        h.add(b).sum().backward();
        b.grad().mul_(3.0);
        assertArrayEquals(new double[] {3, 3}, b.grad().toDoubleArray());
        assertArrayEquals(new double[] {1, 1}, h.grad().toDoubleArray());
    }

    @Test
    void gradIsNotAnAliasOfTheSeedGradient() {
        // PyTorch 1.13: x.backward(v); v.mul_(10) leaves x.grad [1, 2]
        Tensor x = Tensor.of(new double[] {3, 4}).requiresGrad(true);
        Tensor v = Tensor.of(new double[] {1, 2});
        x.backward(v);
        v.mul_(10.0);
        assertArrayEquals(new double[] {1, 2}, x.grad().toDoubleArray());
    }

    @Test
    void detachSharesDataButCutsTheGraph() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor y = x.mul(2.0);
        Tensor d = y.detach();
        assertFalse(d.requiresGrad());
        assertTrue(d.isLeaf());
        assertNull(d.gradFn());
        assertArrayEquals(new double[] {2, 4}, d.toDoubleArray());
        // the gradient only flows through the non-detached use: d/dx (x*d + y) = d + 2
        x.mul(d).add(y).sum().backward();
        assertArrayEquals(new double[] {4, 6}, x.grad().toDoubleArray());
    }

    @Test
    void detachedTensorCanBeWrittenInPlaceAndSharesTheVersion() {
        // the optimizer idiom p.detach().sub_(...): allowed, and visible through the parameter
        Tensor p = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        int before = p.version();
        p.detach().sub_(1.0);
        assertArrayEquals(new double[] {0, 1}, p.toDoubleArray());
        assertEquals(before + 1, p.version(), "detach shares the version counter with its source");
        assertTrue(p.requiresGrad());
    }

    @Test
    void detachInPlaceMakesATensorALeaf() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor y = x.mul(2.0);
        assertSame(y, y.detach_());
        assertTrue(y.isLeaf());
        assertFalse(y.requiresGrad());
        // y is now a constant: d/dx (x*y) = y
        x.mul(y).sum().backward();
        assertArrayEquals(new double[] {2, 4}, x.grad().toDoubleArray());
    }

    @Test
    void integerTensorsCannotRequireGrad() {
        Tensor i = Tensor.of(new long[] {1, 2});
        var e = assertThrows(IllegalArgumentException.class, () -> i.requiresGrad(true));
        assertTrue(e.getMessage().contains("floating-point"), e.getMessage());
        assertEquals(DType.INT64, i.dtype());
        assertFalse(i.requiresGrad());
    }

    @Test
    void requiresGradFalseOnANonLeafIsRefused() {
        Tensor y = Tensor.of(new double[] {1}).requiresGrad(true).mul(2.0);
        var e = assertThrows(IllegalStateException.class, () -> y.requiresGrad(false));
        assertTrue(e.getMessage().contains("detach()"), e.getMessage());
    }

    @Test
    void opsOnIntegerTensorsDoNotRecord() {
        // comparisons give bool outputs: they never carry a gradFn
        Tensor x = Tensor.of(new double[] {1, -1}).requiresGrad(true);
        Tensor mask = x.gt(0.0);
        assertNull(mask.gradFn());
        assertFalse(mask.requiresGrad());
    }
}
