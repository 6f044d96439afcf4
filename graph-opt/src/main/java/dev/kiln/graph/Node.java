package dev.kiln.graph;

import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import java.util.ArrayList;
import java.util.List;

/**
 * One op application in SSA form. {@code source} is the Java file:line that produced it
 * during tracing (or null). Ordinary ops have one output; a control-flow node ({@code cond},
 * {@code while_loop}, {@code scan}) has one type per output and holds its subgraphs in
 * {@code bodies}.
 */
public record Node(int id, Op op, List<Value> inputs, Attrs attrs, List<TensorType> types, String source, List<Graph> bodies) {
    public Node {
        inputs = List.copyOf(inputs);
        types = List.copyOf(types);
        bodies = List.copyOf(bodies);
        if (types.isEmpty()) throw new IllegalArgumentException(op.opName() + " %" + id + ": a node needs at least one output type");
        if (!bodies.isEmpty() && !op.def().isControlFlow()) {
            throw new IllegalArgumentException(op.opName() + " %" + id + ": only control-flow ops hold bodies");
        }
    }

    /** An ordinary (single-output, body-less) node. */
    public Node(int id, Op op, List<Value> inputs, Attrs attrs, TensorType type, String source) {
        this(id, op, inputs, attrs, List.of(type), source, List.of());
    }

    /** The type of output 0 (the only one, except for control flow). */
    public TensorType type() { return types.get(0); }

    /** Output 0. */
    public Value output() { return Value.node(id); }

    /** Output {@code i}: printed {@code %7} for 0, {@code %7.1} for 1, ... */
    public Value output(int i) { return Value.output(id, i); }

    public List<Value> outputs() {
        List<Value> out = new ArrayList<>(types.size());
        for (int i = 0; i < types.size(); i++) out.add(output(i));
        return out;
    }

    /** The same node reading other inputs (ids, types, bodies and source kept). */
    public Node withInputs(List<Value> newInputs) { return new Node(id, op, newInputs, attrs, types, source, bodies); }

    /** The same node with other bodies (a pass that optimized them). */
    public Node withBodies(List<Graph> newBodies) { return new Node(id, op, inputs, attrs, types, source, newBodies); }

    /** {@code conv2d#3 (LeNet.java:31)}: how errors name a node. */
    public String describe() {
        return op.opName() + " %" + id + (source != null ? " (" + source + ")" : "");
    }
}
