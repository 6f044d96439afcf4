package dev.kiln.serve;

import dev.kiln.graph.Printable;
import dev.kiln.serialization.Artifact;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The models a server answers for, by name and version. Either one model file (version 1, named
 * by its graph) or a model directory laid out as Triton and TF Serving lay theirs out:
 * {@code DIR/NAME/VERSION/} holding one {@code *.kiln.json} (with its sidecar) or {@code *.onnx}
 * file, VERSION a positive integer; a request without a version gets the highest.
 *
 * <p>{@link #reload} rescans the directory: new and changed versions are loaded and compiled
 * beside the running ones, then the new set is published at once; versions removed or replaced
 * are retired and finish the requests they hold. A version that fails to load keeps its previous
 * files serving (if any) and is reported, so a bad upload does not take a model down.
 */
public final class ModelRepository {
    /** Reads a model file as an artifact (the CLI's: {@code .kiln.json} or {@code .onnx}). */
    public interface Loader {
        Artifact load(Path file) throws IOException;
    }

    /** What a reload did: one line per change, and the problems found (their versions were left as they were). */
    public record Report(List<String> changes, List<String> problems) {}

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    private static final Pattern VERSION = Pattern.compile("[1-9][0-9]{0,17}");

    private final Path root;
    private final Loader loader;
    private final ServeOptions options;
    private final Metrics metrics;
    private volatile boolean closed;
    /** Immutable maps, replaced whole: a request sees one consistent set. */
    private volatile Map<String, NavigableMap<Long, LoadedModel>> models = Map.of();

    private ModelRepository(Path root, Loader loader, ServeOptions options, Metrics metrics) {
        this.root = root;
        this.loader = loader;
        this.options = options;
        this.metrics = metrics;
    }

    /** One model, version 1, named by its graph. */
    static ModelRepository single(Artifact artifact, ServeOptions options, Metrics metrics) {
        ModelRepository r = new ModelRepository(null, null, options, metrics);
        LoadedModel m = new LoadedModel(artifact.graph().name(), 1, artifact, "", options, metrics);
        r.models = Map.of(m.name, Collections.unmodifiableNavigableMap(new TreeMap<>(Map.of(1L, m))));
        return r;
    }

    /** Every model under {@code dir}; any problem is an IOException naming every one. */
    static ModelRepository open(Path dir, Loader loader, ServeOptions options, Metrics metrics) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException(dir + " is not a directory");
        ModelRepository r = new ModelRepository(dir, loader, options, metrics);
        Report report = r.reload();
        if (!report.problems().isEmpty()) {
            r.close();
            throw new IOException("the model directory " + dir + " has problems:\n  " + String.join("\n  ", report.problems()));
        }
        if (r.models.isEmpty()) throw new IOException("no models in " + dir + " (expected " + dir + "/NAME/VERSION/model.kiln.json or model.onnx)");
        return r;
    }

    boolean isDirectory() { return root != null; }

    /** The models' names, sorted. */
    List<String> names() { return new ArrayList<>(new TreeMap<>(models).keySet()); }

    /** A model's versions, or null. */
    NavigableMap<Long, LoadedModel> versions(String name) { return models.get(name); }

    /** All loaded versions. */
    List<LoadedModel> all() {
        List<LoadedModel> all = new ArrayList<>();
        for (var v : models.values()) all.addAll(v.values());
        return all;
    }

    /**
     * The version a request asks for (the highest when {@code version} is null), held for the
     * request: the caller must {@link LoadedModel#release} it. 404 names what exists.
     */
    LoadedModel acquire(String name, String version) {
        while (true) {
            NavigableMap<Long, LoadedModel> versions = models.get(name);
            if (versions == null || versions.isEmpty()) {
                throw new ApiException(404, "no model named '" + TensorJson.abbreviate(name) + "' (this server serves " + quoted(names()) + ")");
            }
            LoadedModel m;
            if (version == null) {
                m = versions.lastEntry().getValue();
            } else {
                m = VERSION.matcher(version).matches() ? versions.get(Long.parseLong(version)) : null;
                if (m == null) {
                    throw new ApiException(404, "model '" + name + "' has no version '" + TensorJson.abbreviate(version) + "' (it has " + versions.keySet().stream()
                            .map(String::valueOf).reduce((a, b) -> a + ", " + b).orElse("none") + ")");
                }
            }
            if (m.acquire()) return m;
            // retired after the lookup: a reload has published its replacement already, unless the server is stopping
            if (closed) throw new ApiException(503, "the server is shutting down");
            Thread.onSpinWait();
        }
    }

    private static String quoted(List<String> names) {
        if (names.isEmpty()) return "no models";
        List<String> q = new ArrayList<>();
        for (String n : names.subList(0, Math.min(names.size(), 20))) q.add("'" + n + "'");
        return String.join(", ", q) + (names.size() > 20 ? " and " + (names.size() - 20) + " more" : "");
    }

    /** Rescans the directory (see the class comment). A single-file server has nothing to rescan. */
    synchronized Report reload() {
        List<String> changes = new ArrayList<>(), problems = new ArrayList<>();
        if (root == null || closed) return new Report(changes, problems);
        Map<String, NavigableMap<Long, LoadedModel>> old = models;
        Map<String, NavigableMap<Long, LoadedModel>> next = new TreeMap<>();
        List<LoadedModel> retired = new ArrayList<>();
        List<Path> modelDirs = list(root, problems);
        if (modelDirs == null) return new Report(changes, problems); // the whole folder is unreadable now: nothing changes
        for (Path modelDir : modelDirs) {
            String name = modelDir.getFileName().toString();
            if (name.startsWith(".")) continue;
            if (!Files.isDirectory(modelDir)) { // links are followed: mounted volumes link their folders
                problems.add(show(modelDir) + ": expected a folder per model (NAME/VERSION/model file)");
                continue;
            }
            if (!NAME.matcher(name).matches()) {
                problems.add(show(modelDir) + ": a model name is letters, digits, '_', '.' and '-' (it is part of URLs)");
                continue;
            }
            NavigableMap<Long, LoadedModel> had = old.getOrDefault(name, Collections.emptyNavigableMap());
            List<Path> versionDirs = list(modelDir, problems);
            if (versionDirs == null) { // unreadable now: what it served keeps serving
                if (!had.isEmpty()) next.put(name, had);
                continue;
            }
            NavigableMap<Long, LoadedModel> versions = new TreeMap<>();
            for (Path versionDir : versionDirs) {
                String v = versionDir.getFileName().toString();
                if (v.startsWith(".")) continue;
                if (!Files.isDirectory(versionDir) || !VERSION.matcher(v).matches()) {
                    problems.add(show(versionDir) + ": expected a version folder named by a positive integer (NAME/1/model.kiln.json)");
                    continue;
                }
                long version = Long.parseLong(v);
                LoadedModel previous = had.get(version);
                try {
                    Path file = modelFile(versionDir);
                    String stamp = stamp(versionDir);
                    if (previous != null && previous.stamp.equals(stamp)) {
                        versions.put(version, previous);
                        continue;
                    }
                    LoadedModel m = new LoadedModel(name, version, loader.load(file), stamp, options, metrics);
                    versions.put(version, m);
                    changes.add((previous == null ? "loaded " : "reloaded ") + name + " version " + version + " from " + show(file));
                    if (previous != null) retired.add(previous);
                } catch (IOException | RuntimeException | OutOfMemoryError | StackOverflowError e) {
                    problems.add(show(versionDir) + ": " + Printable.escape(e instanceof Error ? e.toString() : String.valueOf(e.getMessage())));
                    if (previous != null) versions.put(version, previous); // the old files keep serving
                }
            }
            if (!versions.isEmpty()) next.put(name, Collections.unmodifiableNavigableMap(versions));
        }
        for (var e : old.entrySet()) { // versions whose folders are gone
            NavigableMap<Long, LoadedModel> now = next.getOrDefault(e.getKey(), Collections.emptyNavigableMap());
            for (var v : e.getValue().entrySet()) {
                if (now.get(v.getKey()) == v.getValue() || retired.contains(v.getValue())) continue;
                retired.add(v.getValue());
                changes.add("removed " + e.getKey() + " version " + v.getKey());
            }
        }
        models = Collections.unmodifiableMap(next); // published whole, then the old versions retire
        for (LoadedModel m : retired) m.retire();
        return new Report(changes, problems);
    }

    /** The folder's entries, sorted; null (and a problem) when it cannot be listed. */
    private List<Path> list(Path dir, List<String> problems) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        } catch (IOException e) {
            problems.add(show(dir) + ": cannot be listed: " + Printable.escape(String.valueOf(e.getMessage())));
            return null;
        }
    }

    /** The one model file of a version folder. */
    private Path modelFile(Path versionDir) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(versionDir)) {
            files = s.filter(p -> {
                String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                return Files.isRegularFile(p) && (n.endsWith(".kiln.json") || n.endsWith(".onnx"));
            }).sorted().toList();
        }
        if (files.size() != 1) {
            throw new IOException(files.isEmpty() ? "holds no model file (*.kiln.json or *.onnx)"
                    : "holds " + files.size() + " model files (" + files.stream().map(p -> p.getFileName().toString()).reduce((a, b) -> a + ", " + b).orElse("")
                            + "); a version is one model");
        }
        return files.get(0);
    }

    /** Every file's name, size and modification time: a changed upload is a changed stamp. */
    private static String stamp(Path versionDir) throws IOException {
        StringBuilder s = new StringBuilder();
        try (Stream<Path> files = Files.list(versionDir)) {
            for (Path p : files.sorted().toList()) {
                if (!Files.isRegularFile(p)) continue;
                s.append(p.getFileName()).append(':').append(Files.size(p)).append(':').append(Files.getLastModifiedTime(p).toMillis()).append(';');
            }
        }
        return s.toString();
    }

    /** A path as messages quote it: relative to the model directory, control characters escaped. */
    private String show(Path p) {
        String r = root.relativize(p).toString();
        return Printable.escape(r.isEmpty() ? root.toString() : r);
    }

    /** Stops every version (after the server's drain). */
    synchronized void close() { // synchronized: a reload running now finishes first, and none starts after
        closed = true;
        for (LoadedModel m : all()) m.close();
    }
}
