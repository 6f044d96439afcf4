package dev.kiln.graph.opt;

/**
 * How much the optimizer does. O1 only rewrites the graph in ways that keep the reference
 * interpreter's results (up to float rounding of folded constants); O2 adds inference rewrites,
 * and tells the compiled executor to fuse and plan memory.
 */
public enum OptLevel {
    /** Nothing: the graph runs as traced. */
    O0,
    /** Dead code, common subexpressions, constant folding, algebraic simplification. */
    O1,
    /** O1 + inference rewrites; compiled plans fuse elementwise/GEMM epilogues and reuse buffers. */
    O2
}
