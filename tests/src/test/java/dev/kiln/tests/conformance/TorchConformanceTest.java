package dev.kiln.tests.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every fixture case from tests/tools/gen_fixtures.py as its own test: Kiln's outputs
 * (dtype, shape, values) and the gradients of sum(out_i * w_i) must match PyTorch's.
 */
class TorchConformanceTest {

    @TestFactory
    Stream<DynamicNode> pytorchFixtures() {
        return Fixtures.FAMILIES.stream().map(f -> DynamicContainer.dynamicContainer(f,
                Fixtures.cases(f).stream().map(c -> DynamicTest.dynamicTest(c.get("id").asText(), () -> run(f, c)))));
    }

    static void run(String family, JsonNode c) {
        String method = c.get("method").asText();
        KilnCalls.Call call = KilnCalls.get(method);
        if (call == null) throw new AssertionError("no Kiln call is mapped for fixture method '" + method + "' (add it to KilnCalls)");
        boolean withGrads = c.has("grads");
        JsonNode ins = c.get("inputs"), views = c.get("views");
        Tensor[] leaves = new Tensor[ins.size()], viewed = new Tensor[ins.size()];
        for (int i = 0; i < leaves.length; i++) {
            leaves[i] = Fixtures.tensor(ins.get(i));
            if (withGrads && !c.get("grads").get(i).isNull()) leaves[i].requiresGrad(true);
            viewed[i] = Fixtures.view(leaves[i], views.get(i));
        }
        Tensor[] outs = KilnCalls.outputs(call.apply(viewed, c.get("args")));
        JsonNode expected = c.get("outputs");
        if (outs.length != expected.size()) {
            throw new AssertionError("Kiln gave " + outs.length + " outputs, PyTorch " + expected.size());
        }
        double rtol = c.get("rtol").asDouble(), atol = c.get("atol").asDouble();
        for (int i = 0; i < outs.length; i++) Expect.matches("output " + i, outs[i], expected.get(i), rtol, atol);
        String deviation = Deviations.GRADIENT.get(family + "/" + c.get("id").asText());
        if (withGrads && deviation == null) checkGrads(c, leaves, outs);
        // a documented gradient deviation still runs the forward check above, and is reported
        Assumptions.assumeTrue(deviation == null, () -> "gradient not compared, deliberate deviation: " + deviation);
    }

    private static void checkGrads(JsonNode c, Tensor[] leaves, Tensor[] outs) {
        JsonNode ws = c.get("w"), grads = c.get("grads");
        List<Tensor> os = new ArrayList<>(), gs = new ArrayList<>();
        for (int i = 0; i < outs.length; i++) {
            if (ws.get(i).isNull()) continue;
            if (!outs[i].requiresGrad()) throw new AssertionError("output " + i + " " + outs[i].typeString() + " does not require grad, but PyTorch's does");
            os.add(outs[i]);
            gs.add(Fixtures.tensor(ws.get(i)));
        }
        List<Tensor> diff = new ArrayList<>();
        List<Integer> which = new ArrayList<>();
        for (int i = 0; i < leaves.length; i++) {
            if (leaves[i].requiresGrad()) {
                diff.add(leaves[i]);
                which.add(i);
            }
        }
        Tensor[] got = Autograd.grad(os.toArray(new Tensor[0]), diff.toArray(new Tensor[0]), gs.toArray(new Tensor[0]), false, false, true);
        double rtol = c.get("grad_rtol").asDouble(), atol = c.get("grad_atol").asDouble();
        for (int k = 0; k < got.length; k++) {
            int i = which.get(k);
            Tensor g = got[k] != null ? got[k] : Tensor.zerosLike(leaves[i]);
            Expect.matches("gradient of input " + i, g, grads.get(i), rtol, atol);
        }
    }
}
