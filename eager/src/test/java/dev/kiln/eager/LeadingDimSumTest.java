package dev.kiln.eager;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.Kiln;
import dev.kiln.backend.DType;
import org.junit.jupiter.api.Test;

/**
 * float32 sums over leading dims (the in-place row-accumulating path) against float64 sums,
 * on awkward sizes, with and without keepdim, on offset views and on non-contiguous input
 * (which takes the generic path).
 */
class LeadingDimSumTest {
    static final int[] SIZES = {1, 7, 15, 16, 17, 31, 33, 255, 1000, 4097};

    static void check(Tensor x, int[] dims, boolean keepdim) {
        Tensor got = x.sum(dims, keepdim);
        Tensor want = x.to(DType.FLOAT64).sum(dims, keepdim);
        assertArrayEquals(want.shape(), got.shape());
        double[] w = want.toDoubleArray();
        float[] g = got.toFloatArray();
        for (int i = 0; i < w.length; i++) assertEquals(w[i], g[i], 1e-5 * Math.max(1, Math.abs(w[i])) + 1e-4, "element " + i);
    }

    @Test
    void sumOverDim0() {
        Kiln.manualSeed(7);
        for (int n : SIZES) {
            for (int f : new int[] {1, 3, 17, 64}) {
                Tensor x = Tensor.randn(n, f);
                check(x, new int[] {0}, false);
                check(x, new int[] {0}, true);
            }
        }
        Tensor big = Tensor.randn(2100, 5); // more rows than one float block
        check(big, new int[] {0}, false);
    }

    @Test
    void sumOverAllButChannel() {
        Kiln.manualSeed(8);
        for (int n : new int[] {1, 7, 33}) {
            Tensor x = Tensor.randn(n, 6, 5, 7);
            check(x, new int[] {0, 2, 3}, false);
            check(x, new int[] {0, 2, 3}, true);
            check(x, new int[] {0, 1}, false);
        }
    }

    @Test
    void offsetAndStridedInputs() {
        Kiln.manualSeed(9);
        Tensor x = Tensor.randn(40, 33);
        check(x.narrow(0, 3, 17), new int[] {0}, false);
        check(x.t(), new int[] {0}, false);
        check(x.narrow(1, 1, 15), new int[] {0}, false);
    }
}
