package dev.kiln.cli;

import dev.kiln.graph.GraphException;
import dev.kiln.serialization.KilnFormatException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/** Turns exceptions into the one line a user reads, and decides which are the user's input's fault. */
final class CliErrors {
    private CliErrors() {}

    static boolean isUserError(Throwable t) {
        return t instanceof KilnFormatException || t instanceof dev.kiln.onnx.OnnxException || t instanceof GraphException || t instanceof IOException || t instanceof CliErrors.UsageException
                || t instanceof IllegalArgumentException;
    }

    /** One line, with whatever it quotes from files and requests escaped (dev.kiln.graph.Printable). */
    static String describe(Throwable t) {
        if (t instanceof NoSuchFileException e) return dev.kiln.graph.Printable.escape("no such file: " + e.getFile());
        if (t instanceof AccessDeniedException e) return dev.kiln.graph.Printable.escape("permission denied: " + e.getFile());
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        int nl = m.indexOf('\n');
        return dev.kiln.graph.Printable.escape(nl < 0 ? m : m.substring(0, nl));
    }

    /**
     * The device named by {@code --device}, checked usable here: a missing GPU or driver is the
     * environment's problem, told in one line with exit code 2, not a Kiln bug (exit 1).
     */
    static dev.kiln.eager.Device device(String name) {
        try {
            return dev.kiln.eager.Device.of(name).checkAvailable();
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw new UsageException("--device " + name + ": " + e.getMessage());
        }
    }

    /** A mistake in the command line that picocli's own parsing cannot see (an input name the model lacks, ...). */
    static final class UsageException extends RuntimeException {
        UsageException(String message) { super(message); }
    }
}
