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
            Op.FULL_LIKE, // creation from attrs alone: there is no PyTorch computation to compare with
            Op.RAND_LIKE, // Kiln's counter-based generator differs from PyTorch's by design (thread-count independence)
            Op.SIZE, // reads only the shape; every mean/var/std fixture is computed through it
            // control flow computes nothing itself: its bodies are ordinary ops, and eager, traced,
            // compiled and reloaded runs are compared in ControlFlowTest and ControlFlowPathsTest
            Op.COND, Op.WHILE_LOOP, Op.SCAN);

    /**
     * Ops checked by the nn suite in eager/ (TorchFixtureTest over nn-fixtures, NnGradcheckTest):
     * op -> a fixture file and a case that must exist there. conv2d_weight_grad is the weight
     * gradient of every conv2d fixture case; max_pool2d_indices drives max_pool2d.
     */
    private static final Map<Op, String[]> NN_SUITE = Map.of(
            Op.CONV2D, new String[] {"conv.json", "conv2d_basic"},
            Op.CONV_TRANSPOSE2D, new String[] {"conv.json", "conv_transpose2d_basic"},
            Op.CONV2D_WEIGHT_GRAD, new String[] {"conv.json", "conv2d_groups"},
            Op.MAX_POOL2D_INDICES, new String[] {"pool.json", "max_pad_ceil"},
            Op.MAX_POOL2D, new String[] {"pool.json", "max_dilation"}, // every max case without grad (TorchFixtureTest.maxPoolForInference)
            // the attention and its gradient op (every attention case checks the gradients); gradcheck in AttentionTest
            Op.SCALED_DOT_PRODUCT_ATTENTION, new String[] {"attention.json", "sdpa_float_mask_scale"},
            Op.SCALED_DOT_PRODUCT_ATTENTION_GRAD, new String[] {"attention.json", "sdpa_causal"},
            // q, k and v of one shape: the one-pass gradient op; AttentionBackwardTest against the tiled ops and the composite
            Op.SCALED_DOT_PRODUCT_ATTENTION_BACKWARD, new String[] {"attention.json", "sdpa_self_causal"},
            // F.layerNorm is the op; its fixture checks the forward and every gradient (the grad op's two forms); gradcheck in NnGradcheckTest
            Op.LAYER_NORM, new String[] {"norm.json", "layer_norm"},
            Op.LAYER_NORM_GRAD, new String[] {"norm.json", "layer_norm"});

    private static final java.nio.file.Path NN_FIXTURES = java.nio.file.Path.of("..", "eager", "src", "test", "resources", "nn-fixtures");

    @Test
    void opsCoveredByTheNnSuiteReallyHaveThoseFixtures() throws java.io.IOException {
        for (Map.Entry<Op, String[]> e : NN_SUITE.entrySet()) {
            JsonNode root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(NN_FIXTURES.resolve(e.getValue()[0]).toFile());
            assertTrue(root.has(e.getValue()[1]), e.getKey().opName() + ": nn fixture " + e.getValue()[0] + " has no case " + e.getValue()[1]);
        }
    }

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
            if (NN_SUITE.containsKey(op)) continue; // NnGradcheckTest in eager/
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
            if (NO_FIXTURE.contains(op) || NN_SUITE.containsKey(op)) continue;
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
