package dev.kiln.tracer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.backend.Strided;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.Conv2d;
import dev.kiln.eager.nn.Dropout;
import dev.kiln.eager.nn.Flatten;
import dev.kiln.eager.nn.Linear;
import dev.kiln.eager.nn.MaxPool2d;
import dev.kiln.eager.nn.ReLU;
import dev.kiln.eager.nn.Sequential;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ReferenceInterpreter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Traced modules equal eager for any batch, and come back as GraphModules that train. */
class ModuleTraceTest {

    private static Sequential smallCnn() {
        Kiln.manualSeed(4);
        return new Sequential(new Conv2d(1, 4, 3, 1, 1), new ReLU(), new MaxPool2d(2), new Dropout(0.5), new Flatten(),
                new Linear(4 * 4 * 4, 10));
    }

    @Test
    void cnnInEvalModeWorksForBatches1And7And64FromOneTrace() {
        Sequential m = smallCnn();
        m.eval();
        Graph g;
        try (var ng = Autograd.noGrad()) {
            g = Tracer.trace(m, new Tensor[] {Tensor.randn(3, 1, 8, 8)}, TraceOptions.builder().name("cnn").dynamic(0, 0, "N").build());
        }
        String text = g.toString();
        assertTrue(text.contains("param 0.weight: f32[4,1,3,3]") && text.contains("param 5.bias: f32[10]"), text);
        assertTrue(text.contains("mode: Sequential traced in eval mode"), text);
        assertTrue(text.contains("device: runs on the CPU backend"), text);
        assertTrue(!text.contains("rand_like"), "eval-mode dropout is an identity:\n" + text);
        for (int n : new int[] {1, 7, 64}) {
            Tensor x = Tensor.randn(n, 1, 8, 8);
            Strided out = ReferenceInterpreter.run(g, List.of(x.data())).get(0);
            Tensor want;
            try (var ng = Autograd.noGrad()) {
                want = m.call(x);
            }
            assertTrue(Tensor.wrap(out).allclose(want, 1e-5, 1e-5), "batch " + n);
        }
    }

    @Test
    void lstmOverAFixedLengthWorksForAnyBatch() {
        Kiln.manualSeed(6);
        dev.kiln.eager.nn.LSTM lstm = new dev.kiln.eager.nn.LSTM(4, 8, 2, true, true);
        Graph g;
        try (var ng = Autograd.noGrad()) {
            g = Tracer.trace(lstm, new Tensor[] {Tensor.randn(3, 5, 4)}, TraceOptions.builder().name("lstm").dynamic(0, 0, "N").build());
        }
        assertEquals("f32[N,5,8]", g.typeOf(g.outputs().get(0)).toString());
        for (int n : new int[] {1, 7, 64}) {
            Tensor x = Tensor.randn(n, 5, 4);
            Strided out = ReferenceInterpreter.run(g, List.of(x.data())).get(0);
            Tensor want;
            try (var ng = Autograd.noGrad()) {
                want = lstm.call(x);
            }
            assertTrue(Tensor.wrap(out).allclose(want, 1e-5, 1e-6), "batch " + n);
        }
    }

    @Test
    void bidirectionalGruOverAFixedLengthWorksForAnyBatchCompiled() {
        Kiln.manualSeed(7);
        dev.kiln.eager.nn.GRU gru = new dev.kiln.eager.nn.GRU(4, 6, 2, true, false, 0.0, true);
        Graph g;
        try (var ng = Autograd.noGrad()) {
            g = Tracer.trace(gru, new Tensor[] {Tensor.randn(5, 3, 4)}, TraceOptions.builder().name("gru").dynamic(0, 1, "N").build());
        }
        assertEquals("f32[5,N,12]", g.typeOf(g.outputs().get(0)).toString());
        dev.kiln.graph.exec.CompiledGraph c = dev.kiln.graph.exec.CompiledGraph.compile(g, dev.kiln.graph.exec.CompileOptions.of(dev.kiln.graph.opt.OptLevel.O2));
        for (int n : new int[] {1, 2, 63, 64}) {
            Tensor x = Tensor.randn(5, n, 4);
            Tensor want;
            try (var ng = Autograd.noGrad()) {
                want = gru.call(x);
            }
            assertTrue(Tensor.wrap(ReferenceInterpreter.run(g, List.of(x.data())).get(0)).allclose(want, 1e-5, 1e-6), "interpreted, batch " + n);
            assertTrue(Tensor.wrap(c.run(List.of(x.data())).get(0)).allclose(want, 1e-5, 1e-6), "compiled, batch " + n);
        }
    }

    @Test
    void trainModeDropoutIsARecordedRandomDraw() {
        Sequential m = smallCnn();
        Graph g = Tracer.trace(m, new Tensor[] {Tensor.randn(2, 1, 8, 8)}, TraceOptions.defaults());
        String text = g.toString();
        assertTrue(text.contains("rand_like") && text.contains("rng: rand_like"), text);
        assertTrue(text.contains("traced in train mode"), text);
    }

    @Test
    void graphModuleLoadsTheOriginalStateDictAndFineTunes() {
        Sequential m = smallCnn();
        m.eval();
        Graph g = Tracer.trace(m, new Tensor[] {Tensor.randn(2, 1, 8, 8)}, TraceOptions.builder().dynamic(0, 0, "N").build());
        GraphModule gm = new GraphModule(g);
        assertEquals(m.stateDict().keySet(), gm.stateDict().keySet());
        assertTrue(gm.loadStateDict(m.stateDict(), true).clean());
        Tensor x = Tensor.randn(5, 1, 8, 8);
        Tensor y = Tensor.randint(0, 10, 5);
        dev.kiln.eager.nn.functional.F.crossEntropy(gm.call(x), y).backward();
        dev.kiln.eager.nn.functional.F.crossEntropy(m.call(x), y).backward();
        for (String k : m.namedParameters().keySet()) {
            assertTrue(gm.namedParameters().get(k).grad().allclose(m.namedParameters().get(k).grad(), 1e-5, 1e-6), k);
        }
    }
}
