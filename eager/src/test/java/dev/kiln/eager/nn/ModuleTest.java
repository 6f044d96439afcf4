package dev.kiln.eager.nn;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.Kiln;
import dev.kiln.eager.HookHandle;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModuleTest {
    static Sequential lenet() {
        Sequential features = new Sequential(new Conv2d(1, 6, 5, 1, 2), new ReLU(), new MaxPool2d(2), new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2));
        Sequential classifier = new Sequential(new Flatten(), new Linear(400, 120), new ReLU(), new Linear(120, 84), new ReLU(), new Linear(84, 10));
        return new Net(features, classifier);
    }

    static final class Net extends Sequential {
        Net(Sequential features, Sequential classifier) {
            registerModuleAs("features", features);
            registerModuleAs("classifier", classifier);
        }

        private void registerModuleAs(String name, Module m) { registerModule(name, m); }
    }

    @Test
    void qualifiedNamesAndCounts() {
        Module m = lenet();
        assertEquals(List.of("features.0.weight", "features.0.bias", "features.3.weight", "features.3.bias", "classifier.1.weight", "classifier.1.bias",
                "classifier.3.weight", "classifier.3.bias", "classifier.5.weight", "classifier.5.bias"), new ArrayList<>(m.namedParameters().keySet()));
        assertEquals(61706, m.parameterCount());
        assertEquals(2, m.children().size());
        assertEquals(15, m.modules().size());
        assertEquals("features.3", ((Sequential) m.children().get(0)).get(3).path());
    }

    @Test
    void stateDictRoundTripAndBuffers() {
        Kiln.manualSeed(1);
        Sequential a = new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2));
        Kiln.manualSeed(2);
        Sequential b = new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2));
        assertFalse(a.stateDict().get("0.weight").equal(b.stateDict().get("0.weight")));
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"),
                new ArrayList<>(a.stateDict().keySet()));
        a.call(Tensor.randn(4, 1, 5, 5)); // training step changes running stats
        Module.LoadReport r = b.loadStateDict(a.stateDict(), true);
        assertTrue(r.clean());
        for (var e : a.stateDict().entrySet()) assertTrue(e.getValue().equal(b.stateDict().get(e.getKey())), e.getKey());
        assertEquals(1, b.stateDict().get("1.num_batches_tracked").itemLong());
    }

    @Test
    void loadStateDictReportsEveryProblem() {
        Sequential m = new Sequential(new Linear(3, 2), new Linear(2, 1));
        Map<String, Tensor> sd = new LinkedHashMap<>(m.stateDict());
        sd.remove("1.bias");
        sd.put("extra.weight", Tensor.zeros(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.loadStateDict(sd, true));
        assertTrue(e.getMessage().contains("missing keys: [1.bias]"), e.getMessage());
        assertTrue(e.getMessage().contains("unexpected keys: [extra.weight]"), e.getMessage());
        Module.LoadReport r = m.loadStateDict(sd, false);
        assertEquals(List.of("1.bias"), r.missingKeys());
        sd.put("0.weight", Tensor.zeros(2, 4));
        e = assertThrows(IllegalArgumentException.class, () -> m.loadStateDict(sd, false));
        assertTrue(e.getMessage().contains("size mismatch for 0.weight: copying a param with shape [2,4], the shape in the current model is [2,3]"),
                e.getMessage());
    }

    @Test
    void printsTreeLikePyTorch() {
        Sequential m = new Sequential(new Conv2d(1, 6, 5, 1, 2), new ReLU(), new Sequential(new Linear(4, 2, false)));
        assertEquals("Sequential(\n"
                + "  (0): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))\n"
                + "  (1): ReLU()\n"
                + "  (2): Sequential(\n"
                + "    (0): Linear(in_features=4, out_features=2, bias=false)\n"
                + "  )\n"
                + ")", m.toString());
    }

    @Test
    void hooksRunAndRemove() {
        Linear l = new Linear(3, 2);
        List<String> log = new ArrayList<>();
        HookHandle pre = l.registerForwardPreHook((m, in) -> { log.add("pre"); return null; });
        HookHandle fwd = l.registerForwardHook((m, in, out) -> out.mul(2.0));
        HookHandle bwd = l.registerBackwardHook((m, g) -> { log.add("backward " + java.util.Arrays.toString(g.shape())); return g.mul(0.0); });
        Tensor x = Tensor.ones(4, 3);
        Tensor y = l.call(x);
        assertTrue(y.allclose(l.forward(x).mul(2.0), 1e-6, 1e-6));
        y.sum().backward();
        assertEquals(List.of("pre", "backward [4, 2]"), log);
        assertTrue(l.weight.grad().allclose(Tensor.zeros(2, 3), 0, 0));
        pre.remove();
        fwd.remove();
        bwd.remove();
        l.zeroGrad();
        assertNull(l.weight.grad());
        l.call(x).sum().backward();
        assertEquals(2, log.size());
        assertTrue(l.weight.grad().allclose(Tensor.full(4.0, 2, 3), 0, 1e-6));
    }

    @Test
    void trainEvalAndDropout() {
        Sequential m = new Sequential(new Dropout(0.5), new Identity());
        assertTrue(m.get(0).isTraining());
        Tensor x = Tensor.ones(1000);
        Kiln.manualSeed(7);
        Tensor a = m.call(x);
        Kiln.manualSeed(7);
        assertTrue(a.equal(m.call(x)), "same seed, same mask");
        double zeros = a.eq(0.0).to(dev.kiln.backend.DType.FLOAT32).sum().item();
        assertTrue(zeros > 430 && zeros < 570, "about half dropped: " + zeros);
        m.eval();
        assertFalse(m.get(0).isTraining());
        assertSame(x, m.call(x));
        List<String> seen = new ArrayList<>();
        m.apply(mod -> seen.add(mod.getClass().getSimpleName()));
        assertEquals(List.of("Dropout", "Identity", "Sequential"), seen);
    }

    @Test
    void badInputsNameTheModulePath() {
        Module m = lenet();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.call(Tensor.zeros(64, 3, 28, 28)));
        assertEquals("features.0 (Conv2d 1->6): expected input [N,1,H,W], got [64,3,28,28]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Linear(4, 2).call(Tensor.zeros(3, 5)));
        assertEquals("Linear 4->2: expected input [*, 4], got [3,5]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> F.crossEntropy(Tensor.zeros(2, 10), Tensor.of(new long[] {3, 12}, 2)));
        assertTrue(e.getMessage().contains("target label 12") && e.getMessage().contains("10 classes"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Embedding(5, 2).call(Tensor.of(new long[] {5}, 1)));
        assertTrue(e.getMessage().contains("index 5") && e.getMessage().contains("5 embeddings"), e.getMessage());
    }

    @Test
    void defaultInitBoundsFollowPyTorch() {
        Kiln.manualSeed(0);
        Linear l = new Linear(100, 50);
        double bound = 1 / Math.sqrt(100);
        assertTrue(l.weight.abs().max().item() <= bound && l.weight.abs().max().item() > 0.9 * bound);
        assertTrue(l.bias.abs().max().item() <= bound);
        Kiln.manualSeed(0);
        assertTrue(new Linear(100, 50).weight.equal(l.weight), "seeded by Kiln.manualSeed");
    }
}
