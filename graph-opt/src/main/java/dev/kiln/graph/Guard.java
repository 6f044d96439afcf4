package dev.kiln.graph;

/**
 * One entry of the tracer's assumption ledger that is checked when the graph runs: the value
 * {@code node} must still produce {@code expected} (as a flat double array), or the run fails
 * naming the assumption and its Java source line.
 */
public record Guard(String kind, String description, Value value, double[] expected, String source) {}
