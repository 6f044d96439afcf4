package dev.kiln.eager;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.eager.autograd.Autograd;
import org.junit.jupiter.api.Test;

/** In-place writes under noGrad may swap in the result buffer; every view must still see the new values. */
class InPlaceBufferTest {
    @Test
    void viewsAndAliasesSeeAnInPlaceUpdateUnderNoGrad() {
        Tensor p = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        Tensor row = p.select(0, 1), alias = p.detach(), t = p.t();
        int v0 = p.version();
        try (var ng = Autograd.noGrad()) {
            p.add_(10.0);
            p.mul_(2.0);
        }
        assertArrayEquals(new float[] {22, 24, 26, 28}, p.toFloatArray());
        assertArrayEquals(new float[] {26, 28}, row.toFloatArray());
        assertArrayEquals(new float[] {22, 24, 26, 28}, alias.toFloatArray());
        assertArrayEquals(new float[] {22, 26, 24, 28}, t.toFloatArray());
        assertEquals(v0 + 2, p.version());
    }

    @Test
    void aPartialViewTargetIsCopiedIntoNotSwapped() {
        Tensor p = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        Tensor row = p.select(0, 0);
        try (var ng = Autograd.noGrad()) {
            row.add_(5.0);
        }
        assertArrayEquals(new float[] {6, 7, 3, 4}, p.toFloatArray());
    }

    /** Large enough that the written-in-place rows are split over the CPU pool. */
    private static final int BIG = 3 * 65536 + 17;

    private static Tensor ramp(int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) ((i % 1000) * scale - 3);
        return Tensor.of(v, n);
    }

    @Test
    void writtenInPlaceTheResultEqualsTheOutOfPlaceOp() {
        for (int n : new int[] {5, BIG}) {
            Tensor a = ramp(n, 0.01), b = ramp(n, -0.02);
            float[] sum = a.add(b).toFloatArray(), prod = a.mul(b).toFloatArray(), quot = a.div(b).toFloatArray(),
                    diff = a.sub(b).toFloatArray(), relu = a.relu().toFloatArray(), neg = a.neg().toFloatArray(),
                    scaled = a.add(b.mul(0.25)).toFloatArray(), squared = a.mul(a).toFloatArray();
            try (var ng = Autograd.noGrad()) {
                assertArrayEquals(sum, a.clone().add_(b).toFloatArray());
                assertArrayEquals(prod, a.clone().mul_(b).toFloatArray());
                assertArrayEquals(quot, a.clone().div_(b).toFloatArray());
                assertArrayEquals(diff, a.clone().sub_(b).toFloatArray());
                assertArrayEquals(relu, a.clone().relu_().toFloatArray());
                assertArrayEquals(neg, a.clone().neg_().toFloatArray());
                assertArrayEquals(scaled, a.clone().add_(b, 0.25).toFloatArray());
                Tensor self = a.clone();
                assertArrayEquals(squared, self.mul_(self).toFloatArray(), "an operand that is the target itself");
            }
        }
    }

    @Test
    void aTargetWithAnOffsetAndABroadcastOperand() {
        Tensor m = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
        Tensor lastRows = m.narrow(0, 1, 2); // contiguous, storage offset 2
        try (var ng = Autograd.noGrad()) {
            lastRows.add_(Tensor.of(new float[] {10, 20}, 2));
            lastRows.mul_(2.0);
        }
        assertArrayEquals(new float[] {1, 2, 26, 48, 30, 52}, m.toFloatArray());
    }

    @Test
    void anOperandOverlappingTheTargetPartlyReadsTheOldValues() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5}, 5);
        try (var ng = Autograd.noGrad()) {
            x.narrow(0, 1, 4).add_(x.narrow(0, 0, 4)); // every element reads its left neighbour before the write
        }
        assertArrayEquals(new float[] {1, 3, 5, 7, 9}, x.toFloatArray());
    }

    @Test
    void aNonContiguousTargetAndATypeChangeStillWork() {
        Tensor m = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        try (var ng = Autograd.noGrad()) {
            m.t().add_(Tensor.of(new float[] {10, 20}, 2)); // the transpose's rows are m's columns
        }
        assertArrayEquals(new float[] {11, 12, 23, 24}, m.toFloatArray());
        Tensor d = Tensor.of(new double[] {1, 2}, 2);
        d.add_(Tensor.of(new float[] {0.5f, 0.25f}, 2)); // float64 target, float32 operand: promoted, then written
        assertArrayEquals(new double[] {1.5, 2.25}, d.toDoubleArray());
    }

    @Test
    void withGradModeOnAnOperandThatRequiresGradStillRecordsTheOp() {
        Tensor w = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        Tensor acc = Tensor.of(new float[] {5, 5}, 2);
        acc.add_(w.mul(3.0));
        acc.sum().backward();
        assertArrayEquals(new float[] {8, 11}, acc.detach().toFloatArray());
        assertArrayEquals(new float[] {3, 3}, w.grad().toFloatArray());
    }
}
