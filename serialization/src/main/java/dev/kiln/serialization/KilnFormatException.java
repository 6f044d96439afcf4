package dev.kiln.serialization;

/**
 * A file that is not a valid Kiln artifact (or safetensors / .npy file). The message starts
 * with the JSON path of the offending field, e.g. {@code parameters[3].shape: product 2^70 overflows},
 * so a user can find the problem without a debugger.
 */
public class KilnFormatException extends RuntimeException {
    /** The message quotes the file: its control characters are escaped (dev.kiln.graph.Printable). */
    public KilnFormatException(String message) { super(dev.kiln.graph.Printable.escape(message)); }

    public KilnFormatException(String message, Throwable cause) { super(dev.kiln.graph.Printable.escape(message), cause); }

    /** {@code path: problem}, the one shape every loader error takes. */
    public static KilnFormatException at(String path, String problem) {
        return new KilnFormatException(path.isEmpty() ? problem : path + ": " + problem);
    }
}
