package dev.kiln.graph;

/**
 * A reference to an SSA value of a graph: a graph input, a named parameter, a constant or
 * the output of a node. Printed as {@code %x}, {@code fc1.weight}, {@code %c0}, {@code %7}.
 */
public record Value(Kind kind, String name) {

    public enum Kind { INPUT, PARAM, CONST, NODE }

    public static Value input(String name) { return new Value(Kind.INPUT, name); }

    public static Value param(String name) { return new Value(Kind.PARAM, name); }

    public static Value constant(String name) { return new Value(Kind.CONST, name); }

    public static Value node(int id) { return new Value(Kind.NODE, Integer.toString(id)); }

    /** The node id of a NODE value. */
    public int nodeId() {
        if (kind != Kind.NODE) throw new IllegalStateException(this + " is not a node output");
        return Integer.parseInt(name);
    }

    @Override
    public String toString() { return kind == Kind.PARAM ? name : "%" + name; }
}
