package dev.kiln.eager.optim;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.eager.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Option handling, zeroGrad and state-dict validation (the numerics are in OptimizerParityTest). */
class OptimizerBehaviourTest {
    static Tensor param(float... v) { return Tensor.of(v, v.length).requiresGrad(true); }

    @Test
    void builderSettersMatchOptionMaps() {
        Tensor p = param(1, 2);
        Adam adam = Adam.builder(List.of(p)).lr(0.02).betas(0.8, 0.95).eps(1e-6).weightDecay(0.1).amsgrad(true).build();
        Map<String, Object> o = adam.paramGroups().get(0).options();
        assertEquals(0.02, o.get("lr"));
        assertEquals(List.of(0.8, 0.95), o.get("betas"));
        assertEquals(1e-6, o.get("eps"));
        assertEquals(0.1, o.get("weight_decay"));
        assertEquals(true, o.get("amsgrad"));
        assertEquals(0.01, AdamW.builder(List.of(param(1))).build().paramGroups().get(0).getDouble("weight_decay"));
    }

    @Test
    void perGroupOptionsOverrideDefaults() {
        Tensor a = param(1), b = param(1);
        SGD sgd = SGD.builder(ParamGroup.of(List.of(a)), ParamGroup.of(List.of(b), Map.of("lr", 1.0))).lr(0.1).build();
        a.setGrad(Tensor.of(new float[] {1}, 1));
        b.setGrad(Tensor.of(new float[] {1}, 1));
        sgd.step();
        assertEquals(0.9, a.item(), 1e-6);
        assertEquals(0.0, b.item(), 1e-6);
    }

    @Test
    void zeroGradSetsToNullByDefaultOrZeroesInPlace() {
        Tensor p = param(1, 2);
        SGD sgd = SGD.builder(List.of(p)).lr(0.1).build();
        p.mul(p).sum().backward();
        Tensor g = p.grad();
        sgd.zeroGrad(false);
        assertSame(g, p.grad());
        assertArrayEquals(new float[] {0, 0}, g.toFloatArray());
        sgd.zeroGrad();
        assertNull(p.grad());
        sgd.step(); // no gradient: the parameter is skipped, not an error
        assertArrayEquals(new float[] {1, 2}, p.toFloatArray());
    }

    @Test
    void stepWithClosureReturnsTheLoss() {
        Tensor p = param(3);
        SGD sgd = SGD.builder(List.of(p)).lr(0.25).build();
        Tensor loss = sgd.step(() -> {
            sgd.zeroGrad();
            Tensor l = p.mul(p).sum();
            l.backward();
            return l;
        });
        assertEquals(9.0, loss.item(), 1e-6);
        assertEquals(3 - 0.25 * 6, p.item(), 1e-6);
    }

    @Test
    void badOptionsAreNamed() {
        Tensor p = param(1);
        assertMessage(() -> SGD.builder(List.of(p)).build(), "lr is required");
        assertMessage(() -> SGD.builder(List.of(p)).lr(0.1).nesterov(true).build(), "Nesterov");
        assertMessage(() -> Adam.builder(List.of(p)).lr(-1).build(), "Invalid learning rate: -1.0");
        assertMessage(() -> Adam.builder(List.of(p)).betas(1.0, 0.9).build(), "beta parameter at index 0");
        assertMessage(() -> SGD.builder(ParamGroup.of(List.of(p), Map.of("lrr", 0.1))).lr(0.1).build(), "unknown option 'lrr'");
        assertMessage(() -> SGD.builder(ParamGroup.of(List.of(p)), ParamGroup.of(List.of(p))).lr(0.1).build(), "more than one parameter group");
        assertMessage(() -> SGD.builder(List.of(p.mul(2))).lr(0.1).build(), "non-leaf");
    }

    @Test
    void loadStateDictRejectsMismatchedDicts() {
        Tensor p = param(1, 2), q = param(1, 2, 3);
        Adam a = Adam.builder(List.of(p)).build();
        p.mul(p).sum().backward();
        a.step();
        Map<String, Object> saved = a.stateDict();
        Adam two = Adam.builder(ParamGroup.of(List.of(param(1, 2))), ParamGroup.of(List.of(param(1)))).build();
        assertMessage(() -> two.loadStateDict(saved), "1 parameter groups, the optimizer has 2");
        Adam wrongShape = Adam.builder(List.of(q)).build();
        assertMessage(() -> wrongShape.loadStateDict(saved), "'exp_avg' of parameter 0 is f32[2] but the parameter is f32[3]");
        assertMessage(() -> wrongShape.loadStateDict(Map.of("state", Map.of())), "'param_groups'");
    }

    @Test
    void stateDictHasPyTorchLayout() {
        Tensor p = param(1, 2), q = param(3);
        SGD sgd = SGD.builder(List.of(p, q)).lr(0.1).momentum(0.9).build();
        q.mul(q).sum().backward();
        sgd.step();
        Map<String, Object> d = sgd.stateDict();
        @SuppressWarnings("unchecked") Map<Integer, Map<String, Object>> state = (Map<Integer, Map<String, Object>>) d.get("state");
        assertEquals(List.of(1), List.copyOf(state.keySet()), "only q had a gradient");
        assertArrayEquals(new float[] {6}, ((Tensor) state.get(1).get("momentum_buffer")).toFloatArray());
        @SuppressWarnings("unchecked") List<Map<String, Object>> groups = (List<Map<String, Object>>) d.get("param_groups");
        assertEquals(List.of(0, 1), groups.get(0).get("params"));
        assertEquals(0.9, groups.get(0).get("momentum"));
    }

    static void assertMessage(org.junit.jupiter.api.function.Executable e, String part) {
        Throwable t = assertThrows(RuntimeException.class, e);
        assertTrue(t.getMessage().contains(part), "message '" + t.getMessage() + "' should contain '" + part + "'");
    }
}
