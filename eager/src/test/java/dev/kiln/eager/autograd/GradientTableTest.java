package dev.kiln.eager.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.backend.op.Op;
import org.junit.jupiter.api.Test;

/** Every differentiable op has a rule; every op marked not differentiable has none. */
class GradientTableTest {
    @Test
    void rulesMatchTheDifferentiableMarks() {
        for (Op op : Op.values()) {
            assertEquals(op.def().differentiable(), Gradients.has(op),
                    op.opName() + (op.def().differentiable() ? " is differentiable but has no gradient rule"
                            : " is marked not differentiable but has a gradient rule"));
        }
    }
}
