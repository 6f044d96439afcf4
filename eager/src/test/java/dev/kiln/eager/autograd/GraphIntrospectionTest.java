package dev.kiln.eager.autograd;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.eager.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** gradFn names, walking nextFunctions() to the leaves, and the text/DOT printers. */
class GraphIntrospectionTest {

    @Test
    void gradFnNamesFollowPyTorch() {
        Tensor a = Tensor.of(new double[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
        Tensor b = Tensor.of(new double[] {1, 0, 0, 1}, 2, 2).requiresGrad(true);
        assertEquals("MulBackward", a.mul(b).gradFn().name());
        assertEquals("MatmulBackward", a.matmul(b).gradFn().name());
        assertEquals("AddBackward", a.add(b).gradFn().name());
        assertEquals("SumBackward", a.sum().gradFn().name());
        assertEquals("LogSoftmaxBackward", a.logSoftmax(1).gradFn().name(), "snake_case op names become CamelCase");
        assertNull(a.gradFn(), "leaves have no gradFn");
    }

    @Test
    void nextFunctionsWalkToTheAccumulators() {
        Tensor a = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor b = Tensor.of(new double[] {3, 4}).requiresGrad(true);
        Tensor c = Tensor.of(new double[] {5, 6}).requiresGrad(true);
        Tensor y = a.mul(b).add(c);

        Node add = y.gradFn();
        List<Node> addNext = add.nextFunctions();
        assertEquals(2, addNext.size());
        assertEquals("MulBackward", addNext.get(0).name());
        AccumulateGrad accC = assertInstanceOf(AccumulateGrad.class, addNext.get(1));
        assertSame(c, accC.variable());

        List<Node> mulNext = addNext.get(0).nextFunctions();
        assertSame(a, ((AccumulateGrad) mulNext.get(0)).variable());
        assertSame(b, ((AccumulateGrad) mulNext.get(1)).variable());
        assertTrue(mulNext.get(0).nextFunctions().isEmpty(), "AccumulateGrad is a sink");
        // one accumulator per leaf, shared by every use of it
        assertSame(mulNext.get(0), a.mul(a).gradFn().nextFunctions().get(0));
    }

    @Test
    void inputsThatNeedNoGradHaveNullEdges() {
        Tensor a = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor k = Tensor.of(new double[] {3, 4});
        List<Node> next = a.mul(k).gradFn().nextFunctions();
        assertInstanceOf(AccumulateGrad.class, next.get(0));
        assertNull(next.get(1), "PyTorch's (None, 0) entry");
    }

    @Test
    void graphTextListsEveryNodeIndented() {
        Tensor a = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor b = Tensor.of(new double[] {3, 4}).requiresGrad(true);
        String text = Autograd.graphText(a.mul(b).exp().sum());
        String[] lines = text.split("\n");
        assertEquals("#0 SumBackward", lines[0]);
        assertEquals("  #1 ExpBackward", lines[1]);
        assertEquals("    #2 MulBackward", lines[2]);
        assertTrue(lines[3].startsWith("      #3 AccumulateGrad -> leaf f64[2]"), lines[3]);
        assertTrue(lines[4].startsWith("      #4 AccumulateGrad -> leaf f64[2]"), lines[4]);
        assertEquals(5, lines.length);
    }

    @Test
    void graphTextMarksSharedNodes() {
        Tensor a = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        String text = Autograd.graphText(a.mul(a));
        assertTrue(text.contains("AccumulateGrad (see #1)"), text);
    }

    @Test
    void graphDotHasNodesAndEdges() {
        Tensor a = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor w = Tensor.of(new double[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
        String dot = Autograd.graphDot(a.matmul(w).relu().sum());
        assertTrue(dot.startsWith("digraph backward {"), dot);
        for (String name : new String[] {"SumBackward", "ReluBackward", "MatmulBackward", "AccumulateGrad"}) {
            assertTrue(dot.contains("label=\"" + name + "\""), name + " missing in\n" + dot);
        }
        // Sum -> Relu -> Matmul -> two accumulators: four edges
        assertEquals(4, dot.split("->", -1).length - 1, dot);
        assertTrue(dot.trim().endsWith("}"));
    }

    @Test
    void printersOnATensorWithoutHistory() {
        Tensor leaf = Tensor.of(new double[] {1}).requiresGrad(true);
        assertTrue(Autograd.graphText(leaf).contains("leaf"));
        assertEquals("digraph backward {\n  node [shape=box];\n}\n", Autograd.graphDot(Tensor.of(new double[] {1})));
    }
}
