package dev.kiln.backend.shape;

/** A shape, dtype or attribute problem, with a message that names the op and the shapes. */
public class ShapeException extends IllegalArgumentException {
    public ShapeException(String message) { super(message); }
}
