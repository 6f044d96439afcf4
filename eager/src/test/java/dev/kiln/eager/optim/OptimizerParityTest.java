package dev.kiln.eager.optim;

import static dev.kiln.eager.optim.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.eager.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Replays each PyTorch 1.13 optimizer run of optimizers.json and compares every step to 1e-5. */
class OptimizerParityTest {
    static final Map<String, Object> DATA = map(load("optimizers.json"));
    static final double TOL = 1e-5;

    static Stream<Arguments> cases() {
        return list(DATA.get("cases")).stream().map(c -> Arguments.of(map(c).get("name"), map(c)));
    }

    /** The fixed "model": W [4,3], b [4] and the data; loss = mean((x W^T + b - y)^2). */
    static final class Model {
        final Tensor w = tensor(DATA.get("W0"), 4, 3).requiresGrad(true);
        final Tensor b = tensor(DATA.get("b0"), 4).requiresGrad(true);
        final Tensor x = tensor(DATA.get("x"), 8, 3);
        final Tensor y = tensor(DATA.get("y"), 8, 4);

        Tensor loss() {
            Tensor d = x.matmul(w.t()).add(b).sub(y);
            return d.mul(d).mean();
        }

        double trainStep(Optimizer opt) {
            opt.zeroGrad();
            Tensor loss = loss();
            loss.backward();
            opt.step();
            return loss.item();
        }
    }

    /** Builds the optimizer the fixture case describes, through the per-group option maps. */
    static Optimizer optimizerFor(Map<String, Object> c, Model m) {
        Map<String, Object> options = map(c.get("options"));
        List<ParamGroup> groups = new ArrayList<>();
        if (c.get("groups") == null) {
            groups.add(ParamGroup.of(List.of(m.w, m.b), options));
        } else {
            List<Tensor> params = List.of(m.w, m.b);
            for (int i = 0; i < 2; i++) {
                Map<String, Object> merged = new LinkedHashMap<>(options);
                merged.putAll(map(list(c.get("groups")).get(i)));
                groups.add(ParamGroup.of(List.of(params.get(i)), merged));
            }
        }
        ParamGroup[] g = groups.toArray(new ParamGroup[0]);
        return switch ((String) c.get("optimizer")) {
            case "SGD" -> SGD.builder(g).build();
            case "Adam" -> Adam.builder(g).build();
            case "AdamW" -> AdamW.builder(g).build();
            case "RMSprop" -> RMSprop.builder(g).build();
            case "Adagrad" -> Adagrad.builder(g).build();
            default -> throw new IllegalArgumentException("unknown optimizer " + c.get("optimizer"));
        };
    }

    static void assertStep(Map<String, Object> expected, Model m, double loss, String what) {
        assertClose(new double[] {((Number) expected.get("loss")).doubleValue()}, new double[] {loss}, TOL, what + " loss");
        assertClose(doubles(expected.get("W")), m.w.toDoubleArray(), TOL, what + " W");
        assertClose(doubles(expected.get("b")), m.b.toDoubleArray(), TOL, what + " b");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesPyTorch(String name, Map<String, Object> c) {
        Model m = new Model();
        Optimizer opt = optimizerFor(c, m);
        List<Object> steps = list(c.get("steps"));
        for (int s = 0; s < steps.size(); s++) assertStep(map(steps.get(s)), m, m.trainStep(opt), name + " step " + (s + 1));
    }

    /** Save after two steps, load into a fresh optimizer over copies, and both runs continue bit-identically. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void stateDictRoundTripContinuesIdentically(String name, Map<String, Object> c) {
        Model a = new Model();
        Optimizer optA = optimizerFor(c, a);
        a.trainStep(optA);
        a.trainStep(optA);
        Map<String, Object> saved = optA.stateDict();

        Model b = new Model();
        b.w.requiresGrad(false).copy_(a.w.detach()).requiresGrad(true);
        b.b.requiresGrad(false).copy_(a.b.detach()).requiresGrad(true);
        Optimizer optB = optimizerFor(c, b);
        optB.loadStateDict(saved);
        a.trainStep(optA); // the saved dict must be a snapshot, unaffected by this step
        b.trainStep(optB);
        assertArrayEquals(a.w.toFloatArray(), b.w.toFloatArray(), name + ": W after resuming");
        for (int s = 0; s < 2; s++) {
            a.trainStep(optA);
            b.trainStep(optB);
        }
        assertArrayEquals(a.w.toFloatArray(), b.w.toFloatArray(), name + ": W after resuming");
        assertArrayEquals(a.b.toFloatArray(), b.b.toFloatArray(), name + ": b after resuming");
        Map<String, Object> fifth = map(list(c.get("steps")).get(4));
        assertClose(doubles(fifth.get("W")), b.w.toDoubleArray(), TOL, name + " resumed W vs PyTorch");
        assertClose(doubles(fifth.get("b")), b.b.toDoubleArray(), TOL, name + " resumed b vs PyTorch");
    }
}
