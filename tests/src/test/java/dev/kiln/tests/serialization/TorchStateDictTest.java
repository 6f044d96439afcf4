package dev.kiln.tests.serialization;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.BatchNorm2d;
import dev.kiln.eager.nn.Conv2d;
import dev.kiln.eager.nn.Linear;
import dev.kiln.eager.nn.MaxPool2d;
import dev.kiln.eager.nn.Module;
import dev.kiln.graph.Graph;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.serialization.torch.TorchWeights;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Tracer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A LeNet trained a little in PyTorch 1.13 and saved with torch.save(model.state_dict())
 * (tests/tools/gen_pt_fixtures.py) loads by name into the same model written with Kiln's
 * modules, and its eval-mode predictions equal PyTorch's: eager, and traced then compiled.
 */
class TorchStateDictTest {
    // the fixtures live with the reader's own tests
    static final Path DIR = Path.of("../serialization/src/test/resources/torch-pt");

    static final class LeNet extends Module {
        final Conv2d conv1 = registerModule("conv1", new Conv2d(1, 6, 5, 1, 2));
        final BatchNorm2d bn1 = registerModule("bn1", new BatchNorm2d(6));
        final MaxPool2d pool = registerModule("pool", new MaxPool2d(2));
        final Conv2d conv2 = registerModule("conv2", new Conv2d(6, 16, 5));
        final Linear fc;

        LeNet(int classes) { fc = registerModule("fc", new Linear(16 * 5 * 5, classes)); }

        @Override
        public Tensor forward(Tensor x) {
            x = pool.forward(bn1.forward(conv1.forward(x)).relu());
            x = pool.forward(conv2.forward(x).relu());
            return fc.forward(x.flatten(1));
        }
    }

    static Tensor tensor(JsonNode n) {
        int[] shape = new int[n.get("shape").size()];
        for (int i = 0; i < shape.length; i++) shape[i] = n.get("shape").get(i).asInt();
        float[] v = new float[n.get("data").size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) n.get("data").get(i).asDouble();
        return Tensor.of(v, shape);
    }

    @Test
    void aPyTorchLeNetPredictsTheSameInKiln() throws Exception {
        JsonNode fwd = new ObjectMapper().readTree(DIR.resolve("expected.json").toFile()).get("lenet_state.pt").get("forward");
        LeNet m = new LeNet(2);
        assertTrue(m.loadStateDict(Tensor.wrapAll(TorchWeights.stateDict(DIR.resolve("lenet_state.pt"))), true).clean());
        m.eval();
        Tensor x = tensor(fwd.get("input")), want = tensor(fwd.get("output"));
        Tensor eager;
        try (var ng = Autograd.noGrad()) {
            eager = m.call(x);
        }
        assertArrayEquals(want.toFloatArray(), eager.toFloatArray(), 2e-5f, "eager");
        Graph g = Tracer.trace(m, new Tensor[] {x}, TraceOptions.builder().name("lenet").dynamic(0, 0, "N").build());
        Tensor compiled = Tensor.wrap(CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2)).run(List.of(x.data())).get(0));
        assertArrayEquals(want.toFloatArray(), compiled.toFloatArray(), 2e-5f, "traced and compiled");
    }

    @Test
    void aStateDictForAnotherShapeIsRefusedNamingTheParameter() throws Exception {
        LeNet m = new LeNet(3);
        String msg = assertThrows(IllegalArgumentException.class,
                () -> m.loadStateDict(Tensor.wrapAll(TorchWeights.stateDict(DIR.resolve("lenet_state.pt"))), true)).getMessage();
        assertTrue(msg.contains("fc.weight") && msg.contains("400"), msg);
    }
}
