package dev.kiln.graph;

/** A malformed graph or a failed run, with a message naming the node and its source line. */
public class GraphException extends RuntimeException {
    public GraphException(String message) { super(message); }

    public GraphException(String message, Throwable cause) { super(message, cause); }
}
