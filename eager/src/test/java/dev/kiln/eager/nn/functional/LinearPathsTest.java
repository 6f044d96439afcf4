package dev.kiln.eager.nn.functional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import org.junit.jupiter.api.Test;

/**
 * F.linear's two forms: a contiguous [..., in] input with a bias of its dtype is one addmm over
 * its rows (as PyTorch's linear), everything else matmul + add. Both give the values and
 * gradients of x @ w^T + b written out with matmul and add, at ranks 3 and 4, a zero-size batch,
 * an input dim past the GEMM's 512-deep block, a transposed input, a bias of another dtype or
 * shape (broadcast and promoted as before); a weight that does not fit is named.
 */
class LinearPathsTest {
    private static Tensor reference(Tensor x, Tensor w, Tensor b) { return x.matmul(w.t()).add(b); }

    @Test
    void valuesAndGradientsMatchMatmulPlusAdd() {
        Kiln.manualSeed(31);
        // {3, 50, 600}: 150 rows, past the GEMM's dot-product form, over two of its k-blocks
        for (int[] shape : new int[][] {{2, 3, 7}, {2, 2, 3, 7}, {0, 5, 7}, {3, 4, 600}, {3, 50, 600}}) {
            int in = shape[shape.length - 1];
            for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                Tensor x = Tensor.randn(shape).to(dt), w = Tensor.randn(5, in).to(dt), b = Tensor.randn(5).to(dt), g = null;
                Tensor[] p = {x.detach().requiresGrad(true), w.detach().requiresGrad(true), b.detach().requiresGrad(true)};
                Tensor[] q = {x.detach().requiresGrad(true), w.detach().requiresGrad(true), b.detach().requiresGrad(true)};
                Tensor y = F.linear(p[0], p[1], p[2]), want = reference(q[0], q[1], q[2]);
                String at = dt.shortName() + java.util.Arrays.toString(shape);
                assertArrayEquals(want.shape(), y.shape(), at);
                g = Tensor.randn(want.shape()).to(dt);
                y.backward(g);
                want.backward(g);
                double tol = dt == DType.FLOAT64 ? 1e-12 : 2e-5;
                assertTrue(y.allclose(want, tol, tol), at + " values");
                for (int i = 0; i < 3; i++) assertTrue(p[i].grad().allclose(q[i].grad(), tol, tol), at + " gradient " + i);
                if (in <= 512) assertArrayEquals(want.toDoubleArray(), y.toDoubleArray(), 0.0, at + ": within one k-block, the same bits");
            }
        }
    }

    @Test
    void otherInputsKeepMatmulPlusAdd() {
        Kiln.manualSeed(32);
        Tensor w = Tensor.randn(5, 7), b = Tensor.randn(5);
        Tensor transposed = Tensor.randn(3, 7, 2).transpose(1, 2); // [3, 2, 7], not contiguous
        assertArrayEquals(reference(transposed, w, b).toDoubleArray(), F.linear(transposed, w, b).toDoubleArray(), 0.0);
        Tensor x = Tensor.randn(2, 3, 7);
        Tensor wide = Tensor.randn(5).to(DType.FLOAT64); // promotes, as the add did
        Tensor y = F.linear(x, w, wide);
        assertEquals(DType.FLOAT64, y.dtype());
        assertArrayEquals(reference(x, w, wide).toDoubleArray(), y.toDoubleArray(), 0.0);
        Tensor perPosition = Tensor.randn(3, 5); // broadcast over the batch, as the add did
        assertArrayEquals(reference(x, w, perPosition).toDoubleArray(), F.linear(x, w, perPosition).toDoubleArray(), 0.0);
    }

    @Test
    void aWeightThatDoesNotFitIsNamed() {
        RuntimeException e = assertThrows(RuntimeException.class, () -> F.linear(Tensor.randn(2, 3, 4), Tensor.randn(5, 6), Tensor.randn(5)));
        assertTrue(e.getMessage().contains("linear") && e.getMessage().contains("[2,3,4]") && e.getMessage().contains("[5,6]"), e.getMessage());
    }
}
