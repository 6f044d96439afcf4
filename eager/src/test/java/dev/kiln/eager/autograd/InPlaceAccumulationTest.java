package dev.kiln.eager.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.kiln.eager.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The engine sums gradients into a buffer it owns in place, and adds a slice's gradient into
 * the part of its input's buffer it covers: the results equal the plain out-of-place sums
 * (create-graph runs take that path), bit for bit, and nothing the user holds changes.
 */
class InPlaceAccumulationTest {

    private static Tensor input() {
        float[] v = new float[2 * 6];
        for (int i = 0; i < v.length; i++) v[i] = i - 3.5f;
        return Tensor.of(v, 2, 6).requiresGrad(true);
    }

    /** q, k, v = split(y): each piece's gradient lands in its columns of y's gradient. */
    @Test
    void aSplitsPiecesGradientsFillTheirColumns() {
        Tensor x = input();
        Tensor y = x.mul(2.0);
        List<Tensor> qkv = y.split(2, 1);
        Tensor loss = qkv.get(0).sum().add(qkv.get(1).square().sum()).add(qkv.get(2).mul(3.0).sum());
        loss.backward();
        float[] xv = x.detach().toFloatArray(), expected = new float[12];
        for (int r = 0; r < 2; r++) {
            for (int c = 0; c < 6; c++) {
                float yv = 2 * xv[r * 6 + c];
                float dy = c < 2 ? 1 : c < 4 ? 2 * yv : 3;
                expected[r * 6 + c] = 2 * dy;
            }
        }
        assertArrayEquals(expected, x.grad().toFloatArray(), 0f);
    }

    /**
     * backward() holds slice gradients and joins them (a cat for a split, placed and summed
     * otherwise); a functional grad() takes the plain path (each piece padded, all added as they
     * come). A split gives the same bits; overlapping slices mixed with other contributions are
     * summed in another order, so within float rounding.
     */
    @Test
    void heldSlicePiecesEqualThePlainPath() {
        for (boolean split : new boolean[] {true, false}) {
            Tensor[] grads = new Tensor[2];
            for (int path = 0; path < 2; path++) {
                Tensor x = input();
                Tensor y = x.mul(1.5).add(0.25);
                Tensor loss;
                if (split) {
                    List<Tensor> p = y.split(new int[] {1, 3, 2}, 1);
                    loss = p.get(0).exp().sum().add(p.get(1).mul(p.get(1)).sum()).add(p.get(2).tanh().sum());
                } else {
                    // overlapping slices, one along dim 0, and y also feeding a sum and a tanh
                    Tensor a = y.slice(1, 0, 4), b = y.slice(1, 2, 6), c = y.slice(0, 1, 2);
                    loss = a.mul(a).sum().add(b.mul(-0.75).sum()).add(c.exp().sum()).add(y.sum()).add(y.tanh().sum());
                }
                if (path == 0) {
                    loss.backward();
                    grads[0] = x.grad();
                } else {
                    grads[1] = Autograd.grad(new Tensor[] {loss}, new Tensor[] {x}, null, false, false, false)[0];
                }
            }
            assertArrayEquals(grads[1].toFloatArray(), grads[0].toFloatArray(), split ? 0f : 1e-5f, split ? "split" : "overlapping");
        }
    }

    /** A create-graph backward through held pieces: the cat's own gradient gives second derivatives. */
    @Test
    void secondDerivativesFlowThroughJoinedPieces() {
        Tensor x = Tensor.of(new double[] {0.5, -1.0, 2.0, 0.25}, 1, 4).requiresGrad(true);
        List<Tensor> p = x.split(2, 1);
        Tensor loss = p.get(0).pow(3.0).sum().add(p.get(1).square().sum());
        loss.backward(null, false, true); // backward(), so the pieces are held and joined, with a graph
        Tensor g = x.grad(); // [3x^2, 3x^2, 2x, 2x]
        x.setGrad(null);
        g.sum().backward();
        assertArrayEquals(new double[] {3, -6, 2, 2}, x.grad().toDoubleArray(), 1e-12);
    }

    /** A gradient the user can see (a hook's argument) is never the buffer summed into. */
    @Test
    void aHookedSlicesGradientIsNotChangedBySumming() {
        Tensor x = input();
        Tensor y = x.mul(1.0);
        List<Tensor> parts = y.split(3, 1);
        Tensor[] seen = new Tensor[2];
        parts.get(0).registerHook(g -> { seen[0] = g; return null; });
        parts.get(1).registerHook(g -> { seen[1] = g; return null; });
        float[] before0, before1;
        parts.get(0).mul(2.0).sum().add(parts.get(1).mul(5.0).sum()).backward();
        before0 = seen[0].toFloatArray();
        before1 = seen[1].toFloatArray();
        float[] two = new float[6], five = new float[6];
        java.util.Arrays.fill(two, 2f);
        java.util.Arrays.fill(five, 5f);
        assertArrayEquals(two, before0, 0f);
        assertArrayEquals(five, before1, 0f);
        assertArrayEquals(new float[] {2, 2, 2, 5, 5, 5, 2, 2, 2, 5, 5, 5}, x.grad().toFloatArray(), 0f);
    }
}
