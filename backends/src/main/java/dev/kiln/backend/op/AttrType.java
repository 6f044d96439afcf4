package dev.kiln.backend.op;

/** The value types an op attribute can have (their JSON forms are in docs/format.md). */
public enum AttrType {
    INT, INTS, FLOAT, BOOL, STRING, DTYPE,
    /** A target shape: integers (-1 inferred or kept) or, in traced graphs, symbolic sizes ({@link SymbolicShape}). */
    SHAPE
}
