package dev.kiln.eager.autograd;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.eager.Tensor;
import org.junit.jupiter.api.Test;

/** {@code Autograd.grad}: torch.autograd.grad in Java form. */
class FunctionalGradTest {

    @Test
    void returnsGradientsWithoutTouchingLeafGrads() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor w = Tensor.of(new double[] {3, 4}).requiresGrad(true);
        Tensor[] g = Autograd.grad(x.mul(w).sum(), x, w);
        assertArrayEquals(new double[] {3, 4}, g[0].toDoubleArray());
        assertArrayEquals(new double[] {1, 2}, g[1].toDoubleArray());
        assertNull(x.grad());
        assertNull(w.grad());
    }

    @Test
    void leavesNotAskedForAreNotTouchedEither() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor w = Tensor.of(new double[] {3, 4}).requiresGrad(true);
        Autograd.grad(x.mul(w).sum(), x);
        assertNull(w.grad(), "grad() never accumulates, even into leaves outside inputs");
    }

    @Test
    void unusedInputIsAnErrorUnlessAllowed() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor unused = Tensor.of(new double[] {5}).requiresGrad(true);
        var e = assertThrows(IllegalArgumentException.class, () -> Autograd.grad(x.sum(), x, unused));
        assertTrue(e.getMessage().contains("allowUnused"), e.getMessage());

        Tensor[] g = Autograd.grad(new Tensor[] {x.mul(x).sum()}, new Tensor[] {x, unused}, null, false, false, true);
        assertArrayEquals(new double[] {2, 4}, g[0].toDoubleArray());
        assertNull(g[1], "PyTorch returns None for an unused input");
    }

    @Test
    void gradOutputsWeightNonScalarOutputs() {
        Tensor x = Tensor.of(new double[] {1, 2, 3}).requiresGrad(true);
        Tensor y = x.mul(x);
        Tensor v = Tensor.of(new double[] {1, -1, 0.5});
        Tensor[] g = Autograd.grad(new Tensor[] {y}, new Tensor[] {x}, new Tensor[] {v}, false, false, false);
        // v * 2x
        assertArrayEquals(new double[] {2, -4, 3}, g[0].toDoubleArray());
    }

    @Test
    void nonScalarOutputWithoutGradOutputsIsRefused() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        var e = assertThrows(IllegalArgumentException.class, () -> Autograd.grad(x.mul(2.0), x));
        assertTrue(e.getMessage().contains("only for scalar outputs"), e.getMessage());
    }

    @Test
    void severalOutputsSumTheirContributions() {
        Tensor x = Tensor.of(new double[] {2}).requiresGrad(true);
        Tensor a = x.mul(x);
        Tensor b = x.mul(3.0);
        Tensor[] g = Autograd.grad(new Tensor[] {a, b}, new Tensor[] {x}, null, false, false, false);
        // 2x + 3
        assertEquals(7.0, g[0].item(), 1e-12);
    }

    @Test
    void gradWithRespectToANonLeaf() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor h = x.mul(3.0);
        Tensor[] g = Autograd.grad(h.mul(h).sum(), h);
        // d/dh sum(h^2) = 2h = 6x
        assertArrayEquals(new double[] {6, 12}, g[0].toDoubleArray());
        assertNull(x.grad());
    }

    @Test
    void inputThatDoesNotRequireGradIsRefused() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor c = Tensor.of(new double[] {1, 2});
        var e = assertThrows(IllegalArgumentException.class, () -> Autograd.grad(x.mul(c).sum(), c));
        assertTrue(e.getMessage().contains("does not require grad"), e.getMessage());
    }

    @Test
    void withoutCreateGraphTheResultHasNoHistory() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor[] g = Autograd.grad(x.pow(3.0).sum(), x);
        assertFalse(g[0].requiresGrad());
        assertNull(g[0].gradFn());
    }

    @Test
    void gradRunsOnlyWhatLeadsToTheInputsAskedFor() {
        // PyTorch's autograd.grad does not walk past its inputs: a hook upstream of the captured
        // non-leaf must not fire, and nothing there runs
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor w = x.mul(3.0);
        int[] upstream = {0};
        w.registerHook(g -> {
            upstream[0]++;
            return null;
        });
        Tensor y = w.mul(2.0);
        Tensor z = y.exp().sum();
        Tensor g = Autograd.grad(new Tensor[] {z}, new Tensor[] {y}, null, true, false, false)[0];
        org.junit.jupiter.api.Assertions.assertArrayEquals(y.exp().toDoubleArray(), g.toDoubleArray(), 1e-12);
        org.junit.jupiter.api.Assertions.assertEquals(0, upstream[0], "the hook upstream of the input ran");
        org.junit.jupiter.api.Assertions.assertNull(x.grad());
        // the full backward still reaches it
        z.backward();
        org.junit.jupiter.api.Assertions.assertEquals(1, upstream[0]);
    }
}
