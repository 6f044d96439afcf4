package dev.kiln.eager.io;

/** A checkpoint file that is corrupt, truncated or does not match what it is loaded into. */
public class CheckpointException extends RuntimeException {
    public CheckpointException(String message) { super(message); }

    public CheckpointException(String message, Throwable cause) { super(message, cause); }
}
