package dev.kiln.eager.autograd;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.eager.HookHandle;
import dev.kiln.eager.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Tensor hooks and post-accumulate-grad hooks. */
class HookTest {

    @Test
    void leafHookCanReplaceTheGradient() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        List<double[]> seen = new ArrayList<>();
        x.registerHook(g -> {
            seen.add(g.toDoubleArray());
            return g.mul(10.0);
        });
        x.mul(x).sum().backward();
        assertArrayEquals(new double[] {2, 4}, seen.get(0), "the hook sees the incoming gradient");
        assertArrayEquals(new double[] {20, 40}, x.grad().toDoubleArray(), "and its result is accumulated");
    }

    @Test
    void nonLeafHookChangesWhatFlowsUpstream() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor h = x.mul(3.0);
        h.registerHook(g -> g.neg());
        h.sum().backward();
        assertArrayEquals(new double[] {-3, -3}, x.grad().toDoubleArray());
    }

    @Test
    void hookReturningNullKeepsTheGradient() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        int[] calls = {0};
        x.registerHook(g -> {
            calls[0]++;
            return null;
        });
        x.mul(2.0).sum().backward();
        assertEquals(1, calls[0]);
        assertArrayEquals(new double[] {2, 2}, x.grad().toDoubleArray());
    }

    @Test
    void removingTheHandleRemovesTheHook() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        HookHandle handle = x.registerHook(g -> g.mul(0.0));
        handle.remove();
        x.mul(2.0).sum().backward();
        assertArrayEquals(new double[] {2, 2}, x.grad().toDoubleArray());
    }

    @Test
    void handleWorksWithTryWithResources() {
        Tensor x = Tensor.of(new double[] {1}).requiresGrad(true);
        try (HookHandle h = x.registerHook(g -> g.mul(5.0))) {
            x.mul(1.0).backward();
        }
        x.mul(1.0).backward();
        // 5 from the hooked pass, 1 from the unhooked one
        assertEquals(6.0, x.grad().item(), 1e-12);
    }

    @Test
    void hooksRunInRegistrationOrderAndChain() {
        Tensor x = Tensor.of(new double[] {1}).requiresGrad(true);
        x.registerHook(g -> g.add(1.0));
        x.registerHook(g -> g.mul(3.0));
        x.mul(2.0).backward();
        // (2 + 1) * 3, not 2 * 3 + 1
        assertEquals(9.0, x.grad().item(), 1e-12);
    }

    @Test
    void hookRegisteredBeforeAnInPlaceOpSeesTheOldValuesGradient() {
        // PyTorch 1.13: h = x * 1; h.register_hook(...); h.mul_(2); (h * 3).sum().backward()
        // -> the hook sees [6, 6], the gradient of h before mul_
        Tensor x = Tensor.of(new double[] {1, 1}).requiresGrad(true);
        Tensor h = x.mul(1.0);
        List<double[]> seen = new ArrayList<>();
        h.registerHook(g -> {
            seen.add(g.toDoubleArray());
            return null;
        });
        h.mul_(2.0);
        h.mul(3.0).sum().backward();
        assertArrayEquals(new double[] {6, 6}, seen.get(0));
    }

    @Test
    void postAccumulateHookSeesTheUpdatedGrad() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        List<double[]> seen = new ArrayList<>();
        x.registerPostAccumulateGradHook(t -> {
            assertSame(x, t);
            seen.add(t.grad().toDoubleArray());
        });
        x.mul(2.0).sum().backward();
        x.mul(3.0).sum().backward();
        assertEquals(2, seen.size());
        assertArrayEquals(new double[] {2, 2}, seen.get(0));
        assertArrayEquals(new double[] {5, 5}, seen.get(1), "after the second accumulation");
    }

    @Test
    void postAccumulateHookOnlyOnLeaves() {
        Tensor h = Tensor.of(new double[] {1}).requiresGrad(true).mul(2.0);
        assertThrows(IllegalStateException.class, () -> h.registerPostAccumulateGradHook(t -> {}));
    }

    @Test
    void hookOnATensorWithoutGradIsRefused() {
        Tensor c = Tensor.of(new double[] {1});
        var e = assertThrows(IllegalStateException.class, () -> c.registerHook(g -> g));
        assertTrue(e.getMessage().contains("does not require grad"), e.getMessage());
    }
}
