package dev.kiln.backend.op;

import dev.kiln.backend.shape.TensorType;

/** An op's type rule over symbolic shapes, shared by eager execution, the verifier and the planner. */
@FunctionalInterface
public interface ShapeRule {
    TensorType infer(String op, TensorType[] inputs, Attrs attrs);
}
