package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.DType;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The verifier rejects hand-built broken graphs, each with a message naming the node. */
class VerifierTest {
    private static final TensorType X = new TensorType(DType.FLOAT32, new Dim[] {Dim.symbol("N"), Dim.of(4)});

    private static String failure(Graph g) {
        return assertThrows(GraphException.class, () -> Verifier.verify(g)).getMessage();
    }

    @Test
    void aWellFormedGraphPasses() {
        GraphBuilder b = Graph.builder("ok");
        Value x = b.addInput("x", X);
        Value y = b.add(Op.RELU, Attrs.EMPTY, "Model.java:3", x);
        Verifier.verify(b.output(y).build());
    }

    @Test
    void useBeforeDefinition() {
        GraphBuilder b = Graph.builder("g");
        Value x = b.addInput("x", X);
        b.addNode(new Node(1, Op.ADD, List.of(x, Value.node(2)), Attrs.EMPTY, X, "Model.java:7"));
        b.addNode(new Node(2, Op.NEG, List.of(x), Attrs.EMPTY, X, null));
        String m = failure(b.output(Value.node(1)).build());
        assertTrue(m.contains("add %1 (Model.java:7): input 1 %2 is used before it is defined"), m);
    }

    @Test
    void cycleIsAUseBeforeDefinition() {
        GraphBuilder b = Graph.builder("g");
        Value x = b.addInput("x", X);
        b.addNode(new Node(1, Op.ADD, List.of(x, Value.node(2)), Attrs.EMPTY, X, null));
        b.addNode(new Node(2, Op.NEG, List.of(Value.node(1)), Attrs.EMPTY, X, null));
        String m = failure(b.output(Value.node(2)).build());
        assertTrue(m.contains("used before it is defined") && m.contains("cycle"), m);
    }

    @Test
    void wrongDeclaredType() {
        GraphBuilder b = Graph.builder("g");
        Value x = b.addInput("x", X);
        Value y = b.addTyped(Op.SUM, Attrs.of("dims", new int[] {1}, "keepdim", false), X, "Model.java:9", x);
        String m = failure(b.output(y).build());
        assertTrue(m.contains("sum %1 (Model.java:9): declared type f32[N,4] but the shape rule gives f32[N]"), m);
    }

    @Test
    void badAttributesAndUndefinedValues() {
        GraphBuilder b = Graph.builder("g");
        Value x = b.addInput("x", X);
        Value y = b.addTyped(Op.SUM, Attrs.of("dims", new int[] {5}, "keepdim", false), X, null, x);
        String m = failure(b.output(y).build());
        assertTrue(m.contains("dim 5 is out of range"), m);

        GraphBuilder c = Graph.builder("g");
        c.addInput("x", X);
        c.addNode(new Node(1, Op.NEG, List.of(Value.input("nope")), Attrs.EMPTY, X, null));
        m = failure(c.output(Value.node(1)).build());
        assertTrue(m.contains("%nope is used before it is defined (it does not exist)"), m);
    }

    @Test
    void duplicateIdsAreNotSsa() {
        GraphBuilder b = Graph.builder("g");
        Value x = b.addInput("x", X);
        b.addNode(new Node(1, Op.NEG, List.of(x), Attrs.EMPTY, X, null));
        b.addNode(new Node(1, Op.RELU, List.of(x), Attrs.EMPTY, X, null));
        String m = failure(b.output(Value.node(1)).build());
        assertTrue(m.contains("defined twice"), m);
    }
}
