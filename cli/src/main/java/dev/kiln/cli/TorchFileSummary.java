package dev.kiln.cli;

import dev.kiln.backend.Strided;
import dev.kiln.graph.Printable;
import dev.kiln.serialization.torch.TorchWeights;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code kiln inspect weights.pt}: every tensor's path, dtype and shape, and the other values,
 * read weights-only. Printed as it walks, at most {@link #MAX_LINES} entries; a key is cut to
 * {@link #MAX_KEY} characters, a container shared by several parents and a tensor saved twice
 * (tied weights) are listed and counted once.
 */
final class TorchFileSummary {
    private TorchFileSummary() {}

    static final int MAX_LINES = 10_000, MAX_KEY = 60;

    static int print(Path file, PrintWriter out) throws IOException {
        Object root = TorchWeights.load(file);
        out.println(Printable.escape("file:        " + file.getFileName() + " (PyTorch torch.save archive, read weights-only)"));
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        long tensors = 0, values = 0, bytes = 0, lines = 0;
        List<String> entries = new ArrayList<>();
        // an explicit stack: the loader bounds the depth, this walk needs no recursion either way
        Deque<Object[]> todo = new ArrayDeque<>();
        todo.push(new Object[] {"", root});
        while (!todo.isEmpty()) {
            Object[] e = todo.pop();
            String path = (String) e[0];
            Object v = e[1];
            boolean container = v instanceof Map || v instanceof List || v instanceof Set;
            if ((container || v instanceof Strided) && !seen.add(v)) {
                if (lines++ < MAX_LINES) entries.add(String.format("  %-40s (the same object as an earlier entry)", path));
                continue;
            }
            List<Object[]> children = new ArrayList<>();
            if (v instanceof Map<?, ?> m) m.forEach((k, c) -> children.add(new Object[] {join(path, String.valueOf(k)), c}));
            else if (v instanceof List<?> l) for (int i = 0; i < l.size(); i++) children.add(new Object[] {join(path, String.valueOf(i)), l.get(i)});
            else if (v instanceof Set<?> s) {
                int i = 0;
                for (Object c : s) children.add(new Object[] {join(path, "{" + i++ + "}"), c});
            } else if (v instanceof Strided t) {
                tensors++;
                bytes += (long) t.numel() * t.dtype().itemSize();
                if (lines++ < MAX_LINES) entries.add(String.format("  %-40s %s%s", path, t.dtype(), Arrays.toString(t.shape()).replace(" ", "")));
            } else {
                values++;
                if (lines++ < MAX_LINES) entries.add(String.format("  %-40s = %s", path, shortValue(v)));
            }
            for (int i = children.size() - 1; i >= 0; i--) todo.push(children.get(i));
        }
        out.println("tensors:     " + tensors + " (" + bytes + " bytes as Kiln holds them)");
        out.println("other:       " + values + " values");
        out.println("entries:");
        for (String l : entries) out.println(Printable.escape(l));
        if (lines > MAX_LINES) out.println("  ... " + (lines - MAX_LINES) + " more");
        return 0;
    }

    private static String shortValue(Object v) {
        if (v instanceof byte[] b) return b.length + " bytes";
        if (v instanceof java.math.BigInteger b) return "an integer of " + b.bitLength() + " bits";
        if (v instanceof String s) return "'" + cut(s) + "'";
        return cut(String.valueOf(v));
    }

    private static String cut(String s) { return s.length() <= MAX_KEY ? s : s.substring(0, MAX_KEY) + "...(" + s.length() + " chars)"; }

    private static String join(String path, String key) { return path.isEmpty() ? cut(key) : path + "." + cut(key); }
}
