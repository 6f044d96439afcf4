package dev.kiln.eager.autograd;

import dev.kiln.eager.Tensor;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.Map;

/** Text and DOT views of a tensor's backward graph, for debugging. */
final class BackwardGraphPrinter {
    private BackwardGraphPrinter() {}

    static String text(Tensor t) {
        if (t.gradFn() == null) return "(no gradFn: " + (t.requiresGrad() ? "leaf" : "does not require grad") + ")\n";
        StringBuilder sb = new StringBuilder();
        Map<Node, Integer> ids = new IdentityHashMap<>();
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {t.gradFn(), 0});
        while (!stack.isEmpty()) {
            Object[] e = stack.pop();
            Node n = (Node) e[0];
            int depth = (Integer) e[1];
            sb.append("  ".repeat(depth));
            Integer seen = ids.get(n);
            if (seen != null) {
                sb.append(n.name()).append(" (see #").append(seen).append(")\n");
                continue;
            }
            int id = ids.size();
            ids.put(n, id);
            sb.append('#').append(id).append(' ').append(n.name());
            if (n instanceof AccumulateGrad a) sb.append(" -> leaf ").append(a.variable().typeString());
            String site = n.forwardSite();
            if (site != null) sb.append("   # ").append(site);
            sb.append('\n');
            var next = n.nextFunctions();
            for (int i = next.size() - 1; i >= 0; i--) {
                if (next.get(i) != null) stack.push(new Object[] {next.get(i), depth + 1});
            }
        }
        return sb.toString();
    }

    static String dot(Tensor t) {
        StringBuilder sb = new StringBuilder("digraph backward {\n  node [shape=box];\n");
        if (t.gradFn() == null) return sb.append("}\n").toString();
        Map<Node, Integer> ids = new IdentityHashMap<>();
        ArrayDeque<Node> todo = new ArrayDeque<>();
        ids.put(t.gradFn(), 0);
        todo.push(t.gradFn());
        while (!todo.isEmpty()) {
            Node n = todo.pop();
            int id = ids.get(n);
            sb.append("  n").append(id).append(" [label=\"").append(n.name()).append("\"];\n");
            for (Node c : n.nextFunctions()) {
                if (c == null) continue;
                Integer cid = ids.get(c);
                if (cid == null) {
                    cid = ids.size();
                    ids.put(c, cid);
                    todo.push(c);
                }
                sb.append("  n").append(id).append(" -> n").append(cid).append(";\n");
            }
        }
        return sb.append("}\n").toString();
    }
}
