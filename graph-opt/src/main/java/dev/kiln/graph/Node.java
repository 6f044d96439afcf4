package dev.kiln.graph;

import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import java.util.List;

/**
 * One op application in SSA form. {@code source} is the Java file:line that produced it
 * during tracing (or null).
 */
public record Node(int id, Op op, List<Value> inputs, Attrs attrs, TensorType type, String source) {
    public Node {
        inputs = List.copyOf(inputs);
    }

    public Value output() { return Value.node(id); }

    /** {@code conv2d#3 (LeNet.java:31)}: how errors name a node. */
    public String describe() {
        return op.opName() + " %" + id + (source != null ? " (" + source + ")" : "");
    }
}
