package dev.kiln.tests.conformance;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.backend.op.Op;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** New ops cannot slip through: each needs PyTorch fixtures and, if differentiable, a gradcheck case. */
class OpCoverageTest {

    /** Ops whose Tensor method is not the camelCase of the op name. */
    private static final Map<Op, String> METHOD = Map.of(Op.CAST, "to", Op.TOPK_INDICES, "topk");

    /** Ops with no fixture, and why. */
    private static final Set<Op> NO_FIXTURE = Set.of(
            Op.FULL_LIKE); // creation from attrs alone: there is no PyTorch computation to compare with

    static String method(Op op) {
        String m = METHOD.get(op);
        if (m != null) return m;
        StringBuilder b = new StringBuilder();
        boolean up = false;
        for (char ch : op.opName().toCharArray()) {
            if (ch == '_') up = true;
            else {
                b.append(up ? Character.toUpperCase(ch) : ch);
                up = false;
            }
        }
        return b.toString();
    }

    @Test
    void everyDifferentiableOpHasGradcheckCases() {
        List<String> missing = new ArrayList<>();
        for (Op op : Op.values()) {
            if (op.def().differentiable() && GradcheckCases.CASES.getOrDefault(op, List.of()).isEmpty()) missing.add(op.opName());
        }
        assertTrue(missing.isEmpty(), "differentiable ops without a case in GradcheckCases: " + missing);
    }

    @Test
    void everyOpHasFixtureCasesWithGradientsWhenDifferentiable() {
        Map<String, int[]> seen = new HashMap<>(); // method -> {cases, cases with gradients}
        for (String f : Fixtures.FAMILIES) {
            for (JsonNode c : Fixtures.cases(f)) {
                int[] n = seen.computeIfAbsent(c.get("method").asText(), k -> new int[2]);
                n[0]++;
                if (c.has("grads")) n[1]++;
            }
        }
        List<String> missing = new ArrayList<>();
        for (Op op : Op.values()) {
            if (NO_FIXTURE.contains(op)) continue;
            int[] n = seen.get(method(op));
            if (n == null) missing.add(op.opName() + " (no fixture method '" + method(op) + "')");
            else if (op.def().differentiable() && n[1] == 0) missing.add(op.opName() + " (no fixture with gradients)");
        }
        assertTrue(missing.isEmpty(), "ops without PyTorch fixtures; add them to tests/tools/gen_fixtures.py: " + missing);
    }

    @Test
    void everyFixtureMethodIsMapped() {
        List<String> unmapped = new ArrayList<>();
        for (String f : Fixtures.FAMILIES) {
            for (JsonNode c : Fixtures.cases(f)) {
                String m = c.get("method").asText();
                if (KilnCalls.get(m) == null && !unmapped.contains(m)) unmapped.add(m);
            }
        }
        assertTrue(unmapped.isEmpty(), "fixture methods with no Kiln call in KilnCalls: " + unmapped);
    }
}
