package dev.kiln.tracer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.optim.Adam;
import dev.kiln.eager.optim.Optimizer;
import dev.kiln.eager.optim.SGD;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** A traced training step run N times equals N eager steps. */
class TraceStepTest {

    /** A 2-layer MLP with cross-entropy, written with Tensor ops. */
    private static final class Mlp {
        final Map<String, Tensor> params = new LinkedHashMap<>();

        Mlp(long seed) {
            Kiln.manualSeed(seed);
            params.put("fc1.weight", Tensor.randn(16, 8).mul(0.3).requiresGrad(true));
            params.put("fc1.bias", Tensor.zeros(16).requiresGrad(true));
            params.put("fc2.weight", Tensor.randn(4, 16).mul(0.3).requiresGrad(true));
            params.put("fc2.bias", Tensor.zeros(4).requiresGrad(true));
        }

        Tensor loss(Tensor x, Tensor y) {
            Tensor h = Tensor.addmm(params.get("fc1.bias"), x, params.get("fc1.weight").t()).relu();
            Tensor logits = Tensor.addmm(params.get("fc2.bias"), h, params.get("fc2.weight").t());
            return logits.logSoftmax(1).gather(1, y.unsqueeze(1)).neg().mean();
        }

        List<Tensor> list() { return List.copyOf(params.values()); }

        /** The training step that gets traced: zero grad, loss on batch {x, y}, backward, update. */
        Function<Tensor[], Tensor> step(Optimizer opt) {
            return in -> {
                opt.zeroGrad();
                Tensor l = loss(in[0], in[1]);
                l.backward();
                opt.step();
                return l;
            };
        }
    }

    private static void check(Function<List<Tensor>, Optimizer> makeOpt) {
        Kiln.manualSeed(11);
        Tensor[][] batches = new Tensor[10][];
        for (int i = 0; i < batches.length; i++) batches[i] = new Tensor[] {Tensor.randn(6, 8), Tensor.randint(0, 4, 6)};

        // eager reference: warm-up and recorded step both see batch 0, then batches 1..9
        Mlp ref = new Mlp(5);
        Optimizer ro = makeOpt.apply(ref.list());
        for (int i = -1; i < batches.length; i++) {
            Tensor[] b = batches[Math.max(i, 0)];
            ro.zeroGrad();
            ref.loss(b[0], b[1]).backward();
            ro.step();
        }

        Mlp traced = new Mlp(5);
        Optimizer to = makeOpt.apply(traced.list());
        Function<Tensor[], Tensor> step = traced.step(to);
        TracedStep ts = Tracer.traceStep(step, batches[0], TraceOptions.builder().name("train_step").params(traced.params).build());
        for (int i = 1; i < batches.length; i++) ts.run(batches[i]);
        assertTrue(ts.stateValues().size() >= 4, "parameters are state: " + ts.stateValues());
        for (String name : ref.params.keySet()) {
            Tensor got = ts.parameter(name), want = ref.params.get(name);
            assertTrue(got.allclose(want, 1e-6, 1e-6), name + ": traced " + got + " vs eager " + want + "\n" + ts.graph());
        }
    }

    @Test
    void dynamicBatchStepGraphMatchesEagerForOtherBatchSizes() {
        Mlp ref = new Mlp(9), traced = new Mlp(9);
        Optimizer ro = SGD.builder(ref.list()).lr(0.1).momentum(0.9).build();
        Optimizer to = SGD.builder(traced.list()).lr(0.1).momentum(0.9).build();
        Kiln.manualSeed(21);
        Tensor[] first = {Tensor.randn(6, 8), Tensor.randint(0, 4, 6)};
        for (int i = 0; i < 2; i++) {
            ro.zeroGrad();
            ref.loss(first[0], first[1]).backward();
            ro.step();
        }
        Function<Tensor[], Tensor> step = traced.step(to);
        TracedStep ts = Tracer.traceStep(step, first, TraceOptions.builder().dynamic(0, 0, "N").dynamic(1, 0, "N")
                .params(traced.params).build());
        for (int n : new int[] {1, 3, 11}) {
            Tensor x = Tensor.randn(n, 8), y = Tensor.randint(0, 4, n);
            ro.zeroGrad();
            Tensor want = ref.loss(x, y);
            want.backward();
            ro.step();
            Tensor got = ts.run(x, y);
            assertTrue(got.allclose(want, 1e-6, 1e-6), "loss at batch " + n + ": " + got + " vs " + want);
        }
        for (String name : ref.params.keySet()) {
            assertTrue(ts.parameter(name).allclose(ref.params.get(name), 1e-6, 1e-6), name);
        }
    }

    @Test
    void sgdMomentumStepGraphMatchesEager() {
        check(p -> SGD.builder(p).lr(0.1).momentum(0.9).build());
    }

    @Test
    void adamStepGraphMatchesEager() {
        check(p -> Adam.builder(p).lr(0.01).build());
    }

    @Test
    void runsUpdateTheStepsOwnStateInPlaceAndNeverTheTracedTensors() {
        Mlp traced = new Mlp(3);
        Optimizer to = SGD.builder(traced.list()).lr(0.1).momentum(0.9).build();
        Kiln.manualSeed(4);
        Tensor[] batch = {Tensor.randn(6, 8), Tensor.randint(0, 4, 6)};
        Function<Tensor[], Tensor> step = traced.step(to);
        TracedStep ts = Tracer.traceStep(step, batch, TraceOptions.builder().params(traced.params).build());
        Map<String, float[]> module = new LinkedHashMap<>();
        for (var e : traced.params.entrySet()) module.put(e.getKey(), e.getValue().detach().toFloatArray());
        Tensor live = ts.parameter("fc1.weight");
        float[] before = live.toFloatArray();
        ts.run(batch);
        ts.run(batch);
        for (var e : traced.params.entrySet()) {
            assertArrayEquals(module.get(e.getKey()), e.getValue().detach().toFloatArray(), e.getKey() + " of the traced module changed");
        }
        // the state is donated: the update lands in the buffer parameter() handed out, as a PyTorch parameter would
        assertArrayEquals(ts.parameter("fc1.weight").toFloatArray(), live.toFloatArray());
        assertFalse(java.util.Arrays.equals(before, live.toFloatArray()), "the step changed fc1.weight");
    }
}
