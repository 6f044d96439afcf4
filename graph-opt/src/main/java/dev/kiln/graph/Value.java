package dev.kiln.graph;

/**
 * A reference to an SSA value of a graph: a graph input, a named parameter, a constant or
 * an output of a node. Printed as {@code %x}, {@code fc1.weight}, {@code %c0}, {@code %7}, and
 * {@code %7.1} for a control-flow node's second output.
 */
public record Value(Kind kind, String name) {

    public enum Kind { INPUT, PARAM, CONST, NODE }

    public static Value input(String name) { return new Value(Kind.INPUT, name); }

    public static Value param(String name) { return new Value(Kind.PARAM, name); }

    public static Value constant(String name) { return new Value(Kind.CONST, name); }

    public static Value node(int id) { return new Value(Kind.NODE, Integer.toString(id)); }

    /** Output {@code index} of node {@code id}; output 0 is {@link #node(int)}. */
    public static Value output(int id, int index) {
        if (index < 0) throw new IllegalArgumentException("output index " + index);
        return index == 0 ? node(id) : new Value(Kind.NODE, id + "." + index);
    }

    /** The node id of a NODE value. */
    public int nodeId() {
        if (kind != Kind.NODE) throw new IllegalStateException(this + " is not a node output");
        int dot = name.indexOf('.');
        return Integer.parseInt(dot < 0 ? name : name.substring(0, dot));
    }

    /** Which output of its node a NODE value is (0 for ordinary ops). */
    public int outputIndex() {
        if (kind != Kind.NODE) throw new IllegalStateException(this + " is not a node output");
        int dot = name.indexOf('.');
        return dot < 0 ? 0 : Integer.parseInt(name.substring(dot + 1));
    }

    @Override
    public String toString() { return kind == Kind.PARAM ? name : "%" + name; }
}
