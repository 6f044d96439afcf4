package dev.kiln.backend.op;

/** Coarse families, used by fusion and by the docs. */
public enum OpKind {
    UNARY, BINARY, TERNARY, REDUCTION, LINALG, VIEW, SHAPE, INDEX, CREATION, NN,
    /** Structured control flow: nodes holding subgraphs, typed and run by graph-opt (no kernel). */
    CONTROL
}
