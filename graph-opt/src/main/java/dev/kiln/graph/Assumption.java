package dev.kiln.graph;

/** An entry of the assumption ledger: what a trace specialized on, and the Java line that caused it. */
public record Assumption(String kind, String description, String source) {
    @Override
    public String toString() { return kind + ": " + description + (source != null ? "   # " + source : ""); }
}
