package dev.kiln.eager.optim.lr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.optim.Optimizer;
import dev.kiln.eager.optim.SGD;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** ReduceLROnPlateau against PyTorch 1.13 over one metric sequence (optim-fixtures/plateau.json). */
class ReduceLROnPlateauTest {
    static List<JsonNode> cases() throws Exception {
        try (InputStream in = ReduceLROnPlateauTest.class.getResourceAsStream("/optim-fixtures/plateau.json")) {
            List<JsonNode> out = new ArrayList<>();
            new ObjectMapper().readTree(in).forEach(out::add);
            return out;
        }
    }

    static ReduceLROnPlateau make(Optimizer o, JsonNode a) {
        ReduceLROnPlateau.Mode mode = a.has("mode") && a.get("mode").asText().equals("max") ? ReduceLROnPlateau.Mode.MAX : ReduceLROnPlateau.Mode.MIN;
        ReduceLROnPlateau.ThresholdMode tm = a.has("threshold_mode") && a.get("threshold_mode").asText().equals("abs")
                ? ReduceLROnPlateau.ThresholdMode.ABS : ReduceLROnPlateau.ThresholdMode.REL;
        return new ReduceLROnPlateau(o, mode, a.path("factor").asDouble(0.1), a.path("patience").asInt(10), a.path("threshold").asDouble(1e-4), tm,
                a.path("cooldown").asInt(0), a.path("min_lr").asDouble(0), a.path("eps").asDouble(1e-8));
    }

    static Optimizer sgd() { return SGD.builder(List.of(Tensor.zeros(2).requiresGrad(true))).lr(0.1).build(); }

    @TestFactory
    Stream<DynamicTest> matchesPyTorch() throws Exception {
        return cases().stream().map(c -> DynamicTest.dynamicTest(c.get("name").asText(), () -> {
            Optimizer o = sgd();
            ReduceLROnPlateau s = make(o, c.get("args"));
            JsonNode metrics = c.get("metrics"), lrs = c.get("lrs");
            for (int i = 0; i < metrics.size(); i++) {
                s.step(metrics.get(i).asDouble());
                assertEquals(lrs.get(i).asDouble(), o.paramGroups().get(0).lr(), 1e-15, c.get("name").asText() + " after step " + (i + 1));
            }
        }));
    }

    @Test
    void stateDictContinuesTheSchedule() throws Exception {
        JsonNode c = cases().get(1);
        Optimizer a = sgd(), b = sgd();
        ReduceLROnPlateau sa = make(a, c.get("args")), sb = make(b, c.get("args"));
        JsonNode metrics = c.get("metrics");
        for (int i = 0; i < 9; i++) sa.step(metrics.get(i).asDouble());
        b.loadStateDict(a.stateDict());
        sb.loadStateDict(sa.stateDict());
        for (int i = 9; i < metrics.size(); i++) {
            sa.step(metrics.get(i).asDouble());
            sb.step(metrics.get(i).asDouble());
            assertEquals(a.paramGroups().get(0).lr(), b.paramGroups().get(0).lr(), 0, "step " + (i + 1));
        }
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ReduceLROnPlateau(sgd(), ReduceLROnPlateau.Mode.MIN, 1.0, 1, 1e-4,
                ReduceLROnPlateau.ThresholdMode.REL, 0, 0.0, 1e-8));
    }
}
