package dev.kiln.tracer;

/** A trace that cannot honestly capture the code: the message names the Java line and a fix. */
public class TraceException extends RuntimeException {
    public TraceException(String message) { super(message); }

    public TraceException(String message, Throwable cause) { super(message, cause); }
}
