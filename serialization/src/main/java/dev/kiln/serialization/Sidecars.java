package dev.kiln.serialization;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors files an artifact refers to. A sidecar is named by a plain file name in the
 * artifact's own folder: no separators, no "..", nothing absolute, and after resolving links
 * it must still lie in that folder, so a file from a stranger cannot make the loader read
 * {@code /etc/passwd} or a neighbour's weights.
 */
final class Sidecars implements Closeable {
    private final Path folder;
    private final LoadLimits limits;
    private final Map<String, SafetensorsFile> open = new LinkedHashMap<>();

    Sidecars(Path folder, LoadLimits limits) {
        this.folder = folder;
        this.limits = limits;
    }

    /** Checks a sidecar name as written in the file (before touching the file system). */
    static String checkName(Json f) {
        String name = f.string();
        if (name.isEmpty() || name.length() > 255) throw f.error("sidecar file name must have 1 to 255 characters");
        if (name.contains("/") || name.contains("\\")) throw f.error("sidecar file name '" + TypeCodec.abbreviate(name) + "' must not contain a path separator (it must lie in the artifact's folder)");
        if (name.equals(".") || name.contains("..")) throw f.error("sidecar file name '" + TypeCodec.abbreviate(name) + "' must not contain '..'");
        if (name.contains(":") || name.chars().anyMatch(Character::isISOControl)) throw f.error("sidecar file name '" + TypeCodec.abbreviate(name) + "' must not contain ':' or control characters");
        if (!name.endsWith(".safetensors")) throw f.error("sidecar file name '" + TypeCodec.abbreviate(name) + "' must end with .safetensors");
        return name;
    }

    SafetensorsFile get(Json f) throws IOException {
        String name = checkName(f);
        SafetensorsFile sf = open.get(name);
        if (sf != null) return sf;
        if (folder == null) throw f.error("refers to sidecar '" + name + "' but the artifact was not loaded from a folder");
        Path p = folder.resolve(name);
        if (!Files.isRegularFile(p)) throw f.error("sidecar file '" + name + "' does not exist next to the artifact");
        Path real = p.toRealPath();
        if (!real.getParent().equals(folder.toRealPath())) {
            throw f.error("sidecar file '" + name + "' resolves to " + real + ", outside the artifact's folder");
        }
        sf = SafetensorsFile.open(real, limits);
        open.put(name, sf);
        return sf;
    }

    @Override
    public void close() throws IOException {
        for (SafetensorsFile sf : open.values()) sf.close();
    }
}
