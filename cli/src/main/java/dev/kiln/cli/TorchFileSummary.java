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
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code kiln inspect weights.pt}: every tensor's path, dtype and shape, and the other values, read weights-only. */
final class TorchFileSummary {
    private TorchFileSummary() {}

    static int print(Path file, PrintWriter out) throws IOException {
        Object root = TorchWeights.load(file);
        long tensors = 0, values = 0, bytes = 0;
        out.println(Printable.escape("file:        " + file.getFileName() + " (PyTorch torch.save archive, read weights-only)"));
        List<String> lines = new ArrayList<>();
        // an explicit stack: the loader bounds the depth, this walk needs no recursion either way
        Deque<Object[]> todo = new ArrayDeque<>();
        todo.push(new Object[] {"", root});
        while (!todo.isEmpty()) {
            Object[] e = todo.pop();
            String path = (String) e[0];
            Object v = e[1];
            List<Object[]> children = new ArrayList<>();
            if (v instanceof Map<?, ?> m) m.forEach((k, c) -> children.add(new Object[] {join(path, String.valueOf(k)), c}));
            else if (v instanceof List<?> l) for (int i = 0; i < l.size(); i++) children.add(new Object[] {join(path, String.valueOf(i)), l.get(i)});
            else if (v instanceof Set<?> s) children.add(new Object[] {path, new ArrayList<>(s)});
            else if (v instanceof Strided t) {
                tensors++;
                bytes += (long) t.numel() * t.dtype().itemSize();
                lines.add(String.format("  %-40s %s%s", path, t.dtype(), Arrays.toString(t.shape()).replace(" ", "")));
            } else {
                values++;
                lines.add(String.format("  %-40s = %s", path, v instanceof byte[] b ? b.length + " bytes" : v instanceof String s ? "'" + s + "'" : String.valueOf(v)));
            }
            for (int i = children.size() - 1; i >= 0; i--) todo.push(children.get(i));
        }
        out.println("tensors:     " + tensors + " (" + bytes + " bytes as Kiln holds them)");
        out.println("other:       " + values + " values");
        out.println("entries:");
        for (String l : lines) out.println(Printable.escape(l));
        return 0;
    }

    private static String join(String path, String key) { return path.isEmpty() ? key : path + "." + key; }
}
