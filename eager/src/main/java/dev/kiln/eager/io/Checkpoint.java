package dev.kiln.eager.io;

import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.backend.state.StateFormat;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.Module;
import dev.kiln.eager.optim.Optimizer;
import dev.kiln.eager.optim.lr.LRScheduler;
import dev.kiln.eager.random.Generator;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Model + optimizer + scheduler + generators + epoch in one file, written atomically: the
 * bytes go to a temporary file in the same folder, are forced to disk, and the file is
 * renamed over the target, so a crash leaves either the old checkpoint or the new one.
 *
 * <p>A file named {@code *.safetensors} is written as safetensors (with kiln-serialization on
 * the class path, which provides the {@link StateFormat}): Python's {@code safetensors} reads its
 * tensors ({@code model/fc1.weight}, {@code optimizer/state/0/momentum_buffer}, ...) and the rest
 * of the state is JSON in its metadata. Any other name gets Kiln's own binary format (magic
 * {@code KILNCKPT}), which {@link #load} still reads; it tells the two apart by their first bytes.
 */
public final class Checkpoint {
    private static final byte[] MAGIC = {'K', 'I', 'L', 'N', 'C', 'K', 'P', 'T'};
    private static final int VERSION = 1;

    private final Map<String, Object> content;

    private Checkpoint(Map<String, Object> content) { this.content = content; }

    /** What a training loop saves; scheduler and generators may be null/empty. */
    public static void save(Path file, Module model, Optimizer optimizer, LRScheduler scheduler,
                            Map<String, Generator> generators, int epoch) throws IOException {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("epoch", epoch);
        c.put("model", new LinkedHashMap<>(model.stateDict()));
        if (optimizer != null) c.put("optimizer", optimizer.stateDict());
        if (scheduler != null) c.put("scheduler", scheduler.stateDict());
        Map<String, Object> rng = new LinkedHashMap<>();
        rng.put("default", stateOf(Generator.defaultGenerator()));
        if (generators != null) generators.forEach((k, g) -> rng.put(k, stateOf(g)));
        c.put("rng", rng);
        var format = StateFormat.forFile(file);
        if (format.isPresent()) writeAtomically(file, tmp -> format.get().write(tmp, toStrided(c)));
        else if (file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".safetensors")) throw noSafetensors(file);
        else writeAtomically(file, c);
    }

    private static CheckpointException noSafetensors(Path file) {
        return new CheckpointException(file + ": safetensors checkpoints need kiln-serialization on the class path (it provides the format)");
    }

    /** The tree with its tensors as CPU data, for a {@link StateFormat}. */
    @SuppressWarnings("unchecked")
    private static Object toStridedValue(Object v) {
        if (v instanceof Tensor t) return Copy.toContiguous(t.data(), t.dtype());
        if (v instanceof Map<?, ?> m) { // keys as strings, as the binary format writes them (the optimizer's are parameter indices)
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(String.valueOf(k), toStridedValue(x)));
            return out;
        }
        if (v instanceof List<?> l) return l.stream().map(Checkpoint::toStridedValue).collect(java.util.stream.Collectors.toList());
        return v;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> toStrided(Map<String, Object> tree) { return (Map<String, Object>) toStridedValue(tree); }

    @SuppressWarnings("unchecked")
    private static Object toTensorValue(Object v) {
        if (v instanceof Strided s) return Tensor.wrap(s);
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            ((Map<String, Object>) m).forEach((k, x) -> out.put(k, toTensorValue(x)));
            return out;
        }
        if (v instanceof List<?> l) return l.stream().map(Checkpoint::toTensorValue).collect(java.util.stream.Collectors.toList());
        return v;
    }

    private static List<Long> stateOf(Generator g) {
        long[] s = g.state();
        return List.of(s[0], s[1]);
    }

    static void writeAtomically(Path file, Map<String, Object> content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.write(MAGIC);
            out.writeInt(VERSION);
            StateCodec.write(out, content);
        }
        writeAtomically(file, tmp -> {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes.toByteArray());
                while (buf.hasRemaining()) ch.write(buf);
            }
        });
    }

    private interface FileWriter {
        void writeTo(Path tmp) throws IOException;
    }

    /** {@code writer} fills a temporary file beside {@code file}, which is forced to disk and renamed over it. */
    private static void writeAtomically(Path file, FileWriter writer) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            writer.writeTo(tmp);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("checkpoint: the file system of " + dir + " cannot rename atomically; refusing a non-atomic write", e);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public static Checkpoint load(Path file) throws IOException {
        byte[] head = new byte[MAGIC.length];
        int got;
        try (InputStream in = Files.newInputStream(file)) {
            got = in.readNBytes(head, 0, head.length);
        }
        if (got < MAGIC.length || !java.util.Arrays.equals(head, MAGIC)) {
            var format = StateFormat.forFile(file);
            if (format.isEmpty()) {
                if (file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".safetensors")) throw noSafetensors(file);
                throw new CheckpointException(file + ": not a Kiln checkpoint (bad magic bytes)");
            }
            Map<String, Object> tree;
            try {
                tree = format.get().read(file);
            } catch (RuntimeException | java.io.EOFException e) { // the format's own error type (KilnFormatException) names the field
                throw new CheckpointException(file + ": " + e.getMessage(), e);
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) toTensorValue(tree);
            return new Checkpoint(validated(m, file));
        }
        long size = Files.size(file);
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file)); DataInputStream in = new DataInputStream(raw)) {
            byte[] magic = new byte[MAGIC.length];
            in.readFully(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) throw new CheckpointException(file + ": not a Kiln checkpoint (bad magic bytes)");
            int version = in.readInt();
            if (version > VERSION) throw new CheckpointException(file + ": checkpoint version " + version + " is newer than this Kiln reads (" + VERSION + ")");
            Object c = StateCodec.read(in, size, file.getFileName().toString(), 0);
            if (in.read() != -1) throw new CheckpointException(file + ": trailing bytes after the checkpoint");
            if (!(c instanceof Map<?, ?> m)) throw new CheckpointException(file + ": the top level is not a map");
            @SuppressWarnings("unchecked")
            Map<String, Object> map = (Map<String, Object>) m;
            return new Checkpoint(validated(map, file));
        } catch (EOFException e) {
            throw new CheckpointException(file + ": truncated checkpoint", e);
        }
    }

    /** The tree's shape as restore reads it: a file that parses but holds something else is refused here, by name. */
    private static Map<String, Object> validated(Map<String, Object> m, Path file) {
        if (!(m.get("epoch") instanceof Integer) || !(m.get("model") instanceof Map<?, ?> model) || !(m.get("rng") instanceof Map<?, ?> rng)) {
            throw new CheckpointException(file + ": not a Kiln training checkpoint (it needs an integer epoch and model and rng maps)");
        }
        model.forEach((k, v) -> {
            if (!(v instanceof Tensor)) throw new CheckpointException(file + ": model entry '" + k + "' is not a tensor");
        });
        rng.forEach((k, v) -> {
            if (!(v instanceof List<?> l) || l.size() != 2 || !(l.get(0) instanceof Number) || !(l.get(1) instanceof Number)) {
                throw new CheckpointException(file + ": generator state '" + k + "' is not two numbers");
            }
        });
        for (String section : new String[] {"optimizer", "scheduler"}) {
            if (m.containsKey(section) && !(m.get(section) instanceof Map<?, ?>)) throw new CheckpointException(file + ": the " + section + " state is not a map");
        }
        return m;
    }

    public int epoch() { return ((Number) content.get("epoch")).intValue(); }

    @SuppressWarnings("unchecked")
    public Map<String, Tensor> modelState() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        ((Map<String, Object>) content.get("model")).forEach((k, v) -> out.put(k, (Tensor) v));
        return out;
    }

    /**
     * Restores everything that is not null; returns the saved epoch. The model must match
     * exactly (strict), and a mismatch lists every bad key.
     */
    @SuppressWarnings("unchecked")
    public int restore(Module model, Optimizer optimizer, LRScheduler scheduler, Map<String, Generator> generators) {
        try {
            Module.LoadReport r = model.loadStateDict(modelState(), true);
            if (!r.clean()) throw new CheckpointException("checkpoint does not match the model: " + r);
            if (optimizer != null) optimizer.loadStateDict(section("optimizer"));
            if (scheduler != null) scheduler.loadStateDict(section("scheduler"));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException("checkpoint does not match what it is restored into: " + e.getMessage(), e);
        }
        Map<String, Object> rng = (Map<String, Object>) content.get("rng");
        setState(Generator.defaultGenerator(), rng.get("default"), "default");
        if (generators != null) generators.forEach((k, g) -> setState(g, rng.get(k), k));
        return epoch();
    }

    @SuppressWarnings("unchecked")
    private Map<String, ?> section(String name) {
        Object v = content.get(name);
        if (!(v instanceof Map<?, ?>)) throw new CheckpointException("checkpoint has no " + name + " state");
        return (Map<String, ?>) v;
    }

    private static void setState(Generator g, Object saved, String name) {
        if (!(saved instanceof List<?> l) || l.size() != 2) throw new CheckpointException("checkpoint has no state for generator '" + name + "'");
        g.setState(new long[] {((Number) l.get(0)).longValue(), ((Number) l.get(1)).longValue()});
    }
}
