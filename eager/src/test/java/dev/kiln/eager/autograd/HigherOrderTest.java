package dev.kiln.eager.autograd;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.eager.Tensor;
import org.junit.jupiter.api.Test;

/** createGraph=true: gradients of gradients. */
class HigherOrderTest {

    @Test
    void secondDerivativeOfCubeIsSixX() {
        Tensor x = Tensor.of(new double[] {-1.5, 0.5, 2}).requiresGrad(true);
        Tensor y = x.pow(3.0).sum();
        Tensor dy = Autograd.grad(new Tensor[] {y}, new Tensor[] {x}, null, true, true, false)[0];
        // 3x^2
        assertArrayEquals(new double[] {6.75, 0.75, 12}, dy.toDoubleArray(), 1e-12);
        assertTrue(dy.requiresGrad());
        Tensor d2y = Autograd.grad(new Tensor[] {dy.sum()}, new Tensor[] {x}, null, true, true, false)[0];
        // 6x
        assertArrayEquals(new double[] {-9, 3, 12}, d2y.toDoubleArray(), 1e-12);
        // and once more: d3/dx3 x^3 = 6
        Tensor d3y = Autograd.grad(d2y.sum(), x)[0];
        assertArrayEquals(new double[] {6, 6, 6}, d3y.toDoubleArray(), 1e-12);
    }

    @Test
    void hessianVectorProductOfACubic() {
        // f(a, b) = a^2 b + b^3 + 3ab at (1, 2):
        // grad = (2ab + 3b, a^2 + 3b^2 + 3a) = (10, 16)
        // H = [[2b, 2a + 3], [2a + 3, 6b]] = [[4, 5], [5, 12]]; H (0.5, -1) = (-3, -9.5)
        // (PyTorch 1.13 gives grad [10, 16] and hvp [-3, -9.5] for the same function)
        Tensor v = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor a = v.select(0, 0), b = v.select(0, 1);
        Tensor f = a.mul(a).mul(b).add(b.pow(3.0)).add(a.mul(b).mul(3.0));
        Tensor g = Autograd.grad(new Tensor[] {f}, new Tensor[] {v}, null, true, true, false)[0];
        assertArrayEquals(new double[] {10, 16}, g.toDoubleArray(), 1e-12);
        Tensor dir = Tensor.of(new double[] {0.5, -1});
        Tensor hv = Autograd.grad(new Tensor[] {g}, new Tensor[] {v}, new Tensor[] {dir}, false, false, false)[0];
        assertArrayEquals(new double[] {-3, -9.5}, hv.toDoubleArray(), 1e-12);
    }

    @Test
    void hessianVectorProductOfAQuadraticFormIsAv() {
        // f = 0.5 x^T A x with symmetric A: grad = A x, Hessian = A
        Tensor aMat = Tensor.of(new double[] {2, 1, 0, 1, 3, -1, 0, -1, 4}, 3, 3);
        Tensor x = Tensor.of(new double[] {1, -2, 0.5}).requiresGrad(true);
        Tensor f = x.matmul(aMat.matmul(x)).mul(0.5);
        Tensor g = Autograd.grad(new Tensor[] {f}, new Tensor[] {x}, null, true, true, false)[0];
        // A x = (2 - 2, 1 - 6 - 0.5, 2 + 2) = (0, -5.5, 4)
        assertArrayEquals(new double[] {0, -5.5, 4}, g.toDoubleArray(), 1e-12);
        Tensor u = Tensor.of(new double[] {1, 0, -1});
        Tensor hv = Autograd.grad(g.mul(u).sum(), x)[0];
        // A u = (2, 1 + 1, -4) = (2, 2, -4)
        assertArrayEquals(new double[] {2, 2, -4}, hv.toDoubleArray(), 1e-12);
    }

    @Test
    void gradientPenaltyBackpropagatesThroughTheGradient() {
        // y = sum(w * x^2); g = dy/dx = 2wx; penalty = (|g| - 1)^2, backpropagated into x and w.
        // Expected values from PyTorch 1.13 (float64): penalty 25.834474939403556,
        // x.grad [1.6712020254, 30.0816364570], w.grad [3.3424040508, -40.1088486093]
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor w = Tensor.of(new double[] {0.5, -1.5}).requiresGrad(true);
        Tensor y = x.mul(x).mul(w).sum();
        Tensor g = Autograd.grad(new Tensor[] {y}, new Tensor[] {x}, null, true, true, false)[0];
        Tensor norm = g.mul(g).sum().sqrt();
        Tensor penalty = norm.sub(1.0).pow(2.0);
        assertEquals(25.834474939403556, penalty.item(), 1e-12);
        penalty.backward();
        assertArrayEquals(new double[] {1.6712020254, 30.0816364570}, x.grad().toDoubleArray(), 1e-9);
        assertArrayEquals(new double[] {3.3424040508, -40.1088486093}, w.grad().toDoubleArray(), 1e-9);
    }

    @Test
    void gradgradcheckPassesOnAComposite() {
        Tensor x = Tensor.of(new double[] {0.3, -0.8, 1.1}).requiresGrad(true);
        assertTrue(Autograd.gradgradcheck(in -> in[0].tanh().mul(in[0].exp()).sum(), x));
    }
}
