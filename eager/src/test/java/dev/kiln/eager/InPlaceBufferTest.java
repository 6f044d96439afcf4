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
}
