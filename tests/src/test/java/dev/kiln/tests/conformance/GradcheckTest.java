package dev.kiln.tests.conformance;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.eager.autograd.Autograd;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Float64 gradcheck and gradgradcheck of every case in {@link GradcheckCases}. */
class GradcheckTest {

    @TestFactory
    Stream<DynamicNode> everyDifferentiableOp() {
        return GradcheckCases.CASES.entrySet().stream().map(e -> DynamicContainer.dynamicContainer(e.getKey().opName(),
                e.getValue().stream().flatMap(c -> Stream.of(
                        DynamicTest.dynamicTest(c.name() + ": gradcheck", () -> assertTrue(Autograd.gradcheck(c.fn(), c.inputs().get()))),
                        DynamicTest.dynamicTest(c.name() + ": gradgradcheck", () -> assertTrue(Autograd.gradgradcheck(c.fn(), c.inputs().get())))))));
    }
}
