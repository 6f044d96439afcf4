package dev.kiln.backend.state;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * A file format for state trees, found by file extension through {@link ServiceLoader}: what a
 * training checkpoint holds (model, optimizer, scheduler, generators) as nested maps with string
 * keys, lists, {@code Boolean}, {@code Integer}, {@code Long}, {@code Double}, {@code String},
 * null, and tensors as {@link dev.kiln.backend.Strided} (CPU, any layout). Eager mode builds the
 * tree and kiln-serialization provides the safetensors format, so eager does not depend on the
 * serialization module (DESIGN.md's module graph) and a checkpoint's tensors are readable by
 * Python's safetensors.
 */
public interface StateFormat {
    /** The file name ending that selects this format, lower case, e.g. {@code .safetensors}. */
    String extension();

    /** Writes {@code tree} to {@code file} (a temporary file the caller renames into place). */
    void write(Path file, Map<String, Object> tree) throws IOException;

    /** Reads a tree written by {@link #write}, treating the file as untrusted. */
    Map<String, Object> read(Path file) throws IOException;

    /** The format for {@code file}'s extension, if a module on the class path provides one. */
    static Optional<StateFormat> forFile(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        for (StateFormat f : ServiceLoader.load(StateFormat.class, StateFormat.class.getClassLoader())) {
            if (name.endsWith(f.extension())) return Optional.of(f);
        }
        return Optional.empty();
    }
}
