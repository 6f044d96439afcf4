package dev.kiln.serialization.torch;

import dev.kiln.backend.Strided;
import dev.kiln.serialization.KilnFormatException;
import dev.kiln.serialization.LoadLimits;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads PyTorch's {@code .pt}/{@code .pth} files (the zip format of torch.save) the way
 * {@code torch.load(f, weights_only=True)} does: tensors, dicts, lists, tuples and primitives come
 * back; any other global in the pickle is an error naming it, and nothing is ever instantiated
 * or called. The file is untrusted: every size is checked against {@link LoadLimits} before it
 * is allocated, and archive names cannot point outside the archive.
 *
 * <pre>{@code
 * Map<String, Strided> sd = TorchWeights.stateDict(Path.of("lenet.pt"));           // torch.save(model.state_dict(), f)
 * Map<String, Strided> sd = TorchWeights.stateDict(Path.of("ckpt.pt"), "model");   // torch.save({"model": ..., "epoch": 3}, f)
 * model.loadStateDict(Tensor.wrapAll(sd), true);
 * }</pre>
 *
 * Dtypes: float32, float64, int64 and bool load as they are; float16 and bfloat16 widen exactly
 * to float32, int32/int16/int8/uint8 to int64 (Kiln's dtypes). Tensors are contiguous copies,
 * except where a tensor already covers its whole storage: tied tensors then share it.
 */
public final class TorchWeights {
    private TorchWeights() {}

    /** The object torch.save wrote, as Java values (see {@link WeightsOnlyUnpickler}). */
    public static Object load(Path file) throws IOException { return load(file, LoadLimits.defaults()); }

    public static Object load(Path file, LoadLimits limits) throws IOException {
        try (TorchZip zip = TorchZip.open(file)) {
            if (zip.has("byteorder")) {
                String order = new String(zip.read("byteorder", 16, ""), StandardCharsets.US_ASCII).trim();
                if (!order.equals("little")) throw KilnFormatException.at(zip.what, "byteorder '" + order + "': Kiln reads little-endian files only");
            }
            byte[] pickle = zip.read("data.pkl", limits.maxDocumentBytes(), " (LoadLimits.maxDocumentBytes)");
            Storages storages = new Storages(zip, limits);
            Object root;
            try {
                root = WeightsOnlyUnpickler.load(pickle, zip.what + ": " + zip.nameOf("data.pkl"), limits, storages);
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
            checkTree(root, limits, zip.what);
            return root;
        }
    }

    /** The state dict at the top of the file: a dict of names to tensors. */
    public static Map<String, Strided> stateDict(Path file) throws IOException { return stateDict(file, LoadLimits.defaults()); }

    /**
     * The state dict found by following {@code keys} from the top of the file, e.g. "model" for a
     * checkpoint dict {@code {"model": model.state_dict(), "epoch": 3}}.
     */
    public static Map<String, Strided> stateDict(Path file, String... keys) throws IOException { return stateDict(file, LoadLimits.defaults(), keys); }

    public static Map<String, Strided> stateDict(Path file, LoadLimits limits, String... keys) throws IOException {
        String what = file.getFileName().toString();
        Object at = load(file, limits);
        StringBuilder path = new StringBuilder();
        for (String k : keys) {
            if (!(at instanceof Map<?, ?> m)) throw KilnFormatException.at(what + pathSuffix(path), "is " + WeightsOnlyUnpickler.describe(at) + ", not a dict with key '" + k + "'");
            if (!m.containsKey(k)) throw KilnFormatException.at(what + pathSuffix(path), "has no key '" + k + "'; its keys are " + keysOf(m));
            at = m.get(k);
            path.append(path.length() == 0 ? "" : ".").append(k);
        }
        if (!(at instanceof Map<?, ?> m)) throw KilnFormatException.at(what + pathSuffix(path), "is " + WeightsOnlyUnpickler.describe(at) + ", not a state dict");
        Map<String, Strided> out = new LinkedHashMap<>();
        List<String> notTensors = new ArrayList<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (e.getKey() instanceof String name && e.getValue() instanceof Strided t) out.put(name, t);
            else notTensors.add(e.getKey() + " (" + WeightsOnlyUnpickler.describe(e.getValue()) + ")");
        }
        if (!notTensors.isEmpty()) {
            String hint = keys.length == 0 && m.keySet().stream().anyMatch(k -> k instanceof String && m.get(k) instanceof Map)
                    ? "; a checkpoint dict? pick its state dict with stateDict(file, \"" + m.keySet().stream().filter(k -> k instanceof String && m.get(k) instanceof Map).findFirst().get() + "\")"
                    : "";
            throw KilnFormatException.at(what + pathSuffix(path), "is not a state dict: " + notTensors.size() + " entr" + (notTensors.size() == 1 ? "y is" : "ies are")
                    + " not named tensors: " + String.join(", ", notTensors.subList(0, Math.min(5, notTensors.size()))) + (notTensors.size() > 5 ? ", ..." : "") + hint);
        }
        return out;
    }

    private static String pathSuffix(CharSequence path) { return path.length() == 0 ? "" : " [" + path + "]"; }

    private static String keysOf(Map<?, ?> m) {
        List<String> ks = new ArrayList<>();
        for (Object k : m.keySet()) {
            if (ks.size() == 10) {
                ks.add("...");
                break;
            }
            ks.add(String.valueOf(k));
        }
        return ks.toString();
    }

    /** Reads each storage once, checking its declared size against the limits and the entry. */
    private static final class Storages implements WeightsOnlyUnpickler.StorageSource {
        private final TorchZip zip;
        private final LoadLimits limits;
        private final Map<String, WeightsOnlyUnpickler.StorageRef> read = new HashMap<>();
        private long totalBytes;

        Storages(TorchZip zip, LoadLimits limits) {
            this.zip = zip;
            this.limits = limits;
        }

        @Override
        public void chargeCopy(long bytes, String what) {
            if (bytes > limits.maxTensorBytes()) {
                throw KilnFormatException.at(zip.what + ": " + what, "the tensor needs " + bytes + " bytes, more than the limit of " + limits.maxTensorBytes()
                        + " (LoadLimits.maxTensorBytes)");
            }
            if (totalBytes + bytes > limits.maxTotalBytes()) {
                throw KilnFormatException.at(zip.what + ": " + what, "the tensors need more than " + limits.maxTotalBytes() + " bytes together (LoadLimits.maxTotalBytes)");
            }
            totalBytes += bytes;
        }

        @Override
        public WeightsOnlyUnpickler.StorageRef load(String key, TorchStorageType type, long numel) {
            WeightsOnlyUnpickler.StorageRef seen = read.get(key);
            String entry = zip.nameOf("data/" + key);
            if (seen != null) {
                if (seen.type() != type || seen.numel() != numel)
                    throw KilnFormatException.at(zip.what + ": " + entry, "is used as " + type.className + " of " + numel + " and as " + seen.type().className + " of " + seen.numel());
                return seen;
            }
            long fileBytes, kilnBytes;
            try {
                fileBytes = Math.multiplyExact(numel, (long) type.fileItemSize);
                kilnBytes = Math.multiplyExact(numel, (long) type.dtype.itemSize());
            } catch (ArithmeticException e) {
                throw KilnFormatException.at(zip.what + ": " + entry, "a storage of " + numel + " elements overflows 64 bits");
            }
            long cap = Math.min(limits.maxTensorBytes(), Integer.MAX_VALUE - 16);
            if (numel > Integer.MAX_VALUE - 16 || kilnBytes > cap || fileBytes > cap) {
                throw KilnFormatException.at(zip.what + ": " + entry, "a " + type.className + " of " + numel + " elements needs " + Math.max(kilnBytes, fileBytes)
                        + " bytes, more than the limit of " + cap + " (LoadLimits.maxTensorBytes; the default follows the JVM's heap, -Xmx raises it)");
            }
            if (totalBytes + kilnBytes > limits.maxTotalBytes()) {
                throw KilnFormatException.at(zip.what + ": " + entry, "the storages need more than " + limits.maxTotalBytes() + " bytes together (LoadLimits.maxTotalBytes)");
            }
            byte[] bytes;
            try {
                bytes = zip.read("data/" + key, fileBytes, " (LoadLimits.maxTensorBytes)");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (bytes.length != fileBytes) {
                throw KilnFormatException.at(zip.what + ": " + entry, "holds " + bytes.length + " bytes, but the pickle declares a " + type.className + " of "
                        + numel + " elements (" + fileBytes + " bytes)");
            }
            totalBytes += kilnBytes;
            WeightsOnlyUnpickler.StorageRef ref = new WeightsOnlyUnpickler.StorageRef(type, key, type.decode(bytes, (int) numel, zip.what + ": " + entry), (int) numel);
            read.put(key, ref);
            return ref;
        }
    }

    /**
     * Walks the result once, without recursion, in post-order: every container's height and
     * the size it has when expanded as a tree are computed from its children's (each container
     * is measured once, however many parents share it). Nesting deeper than the limit, a
     * container that contains itself, a tree expanding past {@code maxNodes} (sharing can make
     * a small pickle an exponential tree, which any recursive walk of the result, printing or
     * equals, would then take forever over), or one of the machine's own records, are refused.
     */
    private static void checkTree(Object root, LoadLimits limits, String what) {
        Map<Object, long[]> measured = new IdentityHashMap<>(); // container -> {height, expanded size}
        Set<Object> open = Collections.newSetFromMap(new IdentityHashMap<>());
        Deque<Object> owners = new ArrayDeque<>();
        Deque<Iterator<?>> path = new ArrayDeque<>();
        Deque<long[]> acc = new ArrayDeque<>(); // per open container: {max child height, sum of child sizes}
        if (WeightsOnlyUnpickler.isInternal(root)) throw KilnFormatException.at(what, "the pickle's result is not a value");
        Iterator<?> top = childrenOf(root);
        if (top == null) return;
        open.add(root);
        owners.push(root);
        path.push(top);
        acc.push(new long[2]);
        while (!path.isEmpty()) {
            Iterator<?> it = path.peek();
            if (it.hasNext()) {
                Object child = it.next();
                if (WeightsOnlyUnpickler.isInternal(child)) throw KilnFormatException.at(what, "the pickled object holds " + WeightsOnlyUnpickler.describe(child) + ", not a value");
                long[] known = measured.get(child);
                Iterator<?> grand = known == null ? childrenOf(child) : null;
                if (known == null && grand == null) {
                    add(acc.peek(), 0, 1, limits, what);
                    continue;
                }
                if (known != null) {
                    add(acc.peek(), known[0], known[1], limits, what);
                    continue;
                }
                if (open.contains(child)) throw KilnFormatException.at(what, "the pickled object contains itself (a reference cycle), which a state dict never does");
                if (path.size() >= limits.maxNestingDepth()) throw KilnFormatException.at(what, "the pickled object nests deeper than " + limits.maxNestingDepth() + " levels");
                open.add(child);
                owners.push(child);
                path.push(grand);
                acc.push(new long[2]);
                continue;
            }
            path.pop();
            Object done = owners.pop();
            open.remove(done);
            long[] a = acc.pop();
            long[] m = {a[0] + 1, a[1] + 1};
            measured.put(done, m);
            if (!acc.isEmpty()) add(acc.peek(), m[0], m[1], limits, what);
        }
    }

    private static void add(long[] acc, long height, long size, LoadLimits limits, String what) {
        acc[0] = Math.max(acc[0], height);
        acc[1] = acc[1] + size;
        if (acc[1] > limits.maxNodes()) {
            throw KilnFormatException.at(what, "the pickled object expands to more than " + limits.maxNodes() + " values (shared containers multiply; LoadLimits.maxNodes)");
        }
    }

    private static Iterator<?> childrenOf(Object o) {
        if (o instanceof Map<?, ?> m) {
            List<Object> kv = new ArrayList<>(m.size() * 2);
            for (Map.Entry<?, ?> e : m.entrySet()) {
                kv.add(e.getKey());
                kv.add(e.getValue());
            }
            return kv.iterator();
        }
        if (o instanceof List<?> l) return l.iterator();
        if (o instanceof Set<?> s) return s.iterator();
        return null;
    }
}
