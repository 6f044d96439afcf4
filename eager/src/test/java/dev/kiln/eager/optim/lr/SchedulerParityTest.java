package dev.kiln.eager.optim.lr;

import static dev.kiln.eager.optim.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.optim.Adam;
import dev.kiln.eager.optim.Optimizer;
import dev.kiln.eager.optim.ParamGroup;
import dev.kiln.eager.optim.SGD;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Each scheduler's lr (and momentum) sequence against PyTorch 1.13 (schedulers.json). */
class SchedulerParityTest {
    static final List<Object> CASES = list(load("schedulers.json"));

    static final Map<String, Function<Optimizer, LRScheduler>> FACTORIES = Map.of(
            "step", o -> new StepLR(o, 3, 0.5),
            "multistep", o -> new MultiStepLR(o, new int[] {2, 5, 5, 11}, 0.3),
            "exponential", o -> new ExponentialLR(o, 0.9),
            "cosine", o -> new CosineAnnealingLR(o, 7, 0.001),
            "cosine_zero_min", o -> new CosineAnnealingLR(o, 10),
            "linear_warmup", o -> new LinearLR(o, 0.1, 1.0, 6),
            "linear_decay", o -> new LinearLR(o, 1.0, 0.25, 8),
            "onecycle_cos_sgd", o -> OneCycleLR.builder(o).maxLr(0.5).totalSteps(20).build(),
            "onecycle_linear_three_phase_adam", o -> OneCycleLR.builder(o).maxLr(0.02).totalSteps(20).pctStart(0.25)
                    .annealStrategy(OneCycleLR.Anneal.LINEAR).threePhase(true).divFactor(10).finalDivFactor(100)
                    .baseMomentum(0.8).maxMomentum(0.9).build());

    static Stream<Arguments> cases() { return CASES.stream().map(c -> Arguments.of(map(c).get("name"), map(c))); }

    static Optimizer optimizerFor(Map<String, Object> c) {
        Tensor p = Tensor.zeros(2).requiresGrad(true);
        ParamGroup g = ParamGroup.of(List.of(p), map(c.get("options")));
        return "Adam".equals(c.get("optimizer")) ? Adam.builder(g).build() : SGD.builder(g).build();
    }

    static double momentum(Optimizer o) {
        ParamGroup g = o.paramGroups().get(0);
        return g.has("betas") ? g.betas()[0] : g.getDouble("momentum");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesPyTorch(String name, Map<String, Object> c) {
        double[] lrs = doubles(c.get("lrs")), momenta = doubles(c.get("momenta"));
        Optimizer opt = optimizerFor(c);
        LRScheduler s = FACTORIES.get(name).apply(opt);
        List<Double> got = new ArrayList<>(), gotMomenta = new ArrayList<>();
        got.add(s.getLastLr()[0]);
        gotMomenta.add(momentum(opt));
        for (int i = 1; i < lrs.length; i++) {
            opt.step();
            s.step();
            got.add(s.getLastLr()[0]);
            gotMomenta.add(momentum(opt));
        }
        assertClose(lrs, got.stream().mapToDouble(Double::doubleValue).toArray(), 1e-12, name + " lr");
        assertClose(momenta, gotMomenta.stream().mapToDouble(Double::doubleValue).toArray(), 1e-12, name + " momentum");
        assertEquals(lrs[lrs.length - 1], opt.paramGroups().get(0).lr(), 1e-12, "the optimizer sees the scheduled lr");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void stateDictRoundTripContinuesTheSchedule(String name, Map<String, Object> c) {
        double[] lrs = doubles(c.get("lrs"));
        Optimizer a = optimizerFor(c);
        LRScheduler sa = FACTORIES.get(name).apply(a);
        for (int i = 0; i < 7; i++) sa.step();
        Optimizer b = optimizerFor(c);
        LRScheduler sb = FACTORIES.get(name).apply(b);
        b.loadStateDict(a.stateDict());
        sb.loadStateDict(sa.stateDict());
        assertEquals(sa.getLastLr()[0], sb.getLastLr()[0]);
        for (int i = 8; i < lrs.length; i++) {
            sb.step();
            assertEquals(lrs[i], sb.getLastLr()[0], 1e-12, name + " lr at step " + i + " after resuming");
        }
    }

    @Test
    void oneCycleRefusesToRunPastTotalSteps() {
        Optimizer o = SGD.builder(List.of(Tensor.zeros(1).requiresGrad(true))).lr(0.1).momentum(0.9).build();
        OneCycleLR s = OneCycleLR.builder(o).maxLr(1).totalSteps(3).build();
        for (int i = 0; i < 3; i++) s.step();
        var e = assertThrows(IllegalStateException.class, s::step);
        assertTrue(e.getMessage().contains("total steps is 3"), e.getMessage());
    }

    @Test
    void oneCycleNeedsMomentumToCycleIt() {
        Optimizer o = dev.kiln.eager.optim.Adagrad.builder(List.of(Tensor.zeros(1).requiresGrad(true))).build();
        var e = assertThrows(IllegalArgumentException.class, () -> OneCycleLR.builder(o).maxLr(1).totalSteps(3).build());
        assertTrue(e.getMessage().contains("cycleMomentum"), e.getMessage());
        OneCycleLR.builder(o).maxLr(1).totalSteps(3).cycleMomentum(false).build();
    }

    @Test
    void loadRejectsADifferentSchedule() {
        Optimizer o = SGD.builder(List.of(Tensor.zeros(1).requiresGrad(true))).lr(0.1).build();
        Map<String, Object> saved = new StepLR(o, 3, 0.5).stateDict();
        StepLR other = new StepLR(o, 3, 0.1);
        var e = assertThrows(IllegalArgumentException.class, () -> other.loadStateDict(saved));
        assertTrue(e.getMessage().contains("saved gamma=0.5 differs"), e.getMessage());
    }
}
