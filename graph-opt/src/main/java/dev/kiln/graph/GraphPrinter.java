package dev.kiln.graph;

import dev.kiln.backend.cpu.Copy;
import dev.kiln.backend.DType;
import java.util.StringJoiner;

/** The graph's text form and Graphviz DOT. */
final class GraphPrinter {
    private GraphPrinter() {}

    static String text(Graph g) {
        StringBuilder sb = new StringBuilder("graph ").append(g.name()).append('(');
        StringJoiner ins = new StringJoiner(", ");
        for (GraphInput in : g.inputs()) ins.add("%" + in.name() + ": " + in.type());
        sb.append(ins).append(") -> (");
        StringJoiner outs = new StringJoiner(", ");
        for (Value v : g.outputs()) outs.add(String.valueOf(g.typeOf(v)));
        sb.append(outs).append(")\n");
        for (NamedTensor p : g.params()) sb.append("  param ").append(p.name()).append(": ").append(p.type()).append('\n');
        for (NamedTensor c : g.constants()) {
            sb.append("  const %").append(c.name()).append(": ").append(c.type());
            if (c.data() != null && c.data().numel() == 1) {
                double v = Copy.toContiguous(c.data(), DType.FLOAT64).storage().f64()[0];
                sb.append(" = ").append(c.type().dtype().isFloatingPoint() ? Double.toString(v) : Long.toString((long) v));
            }
            sb.append('\n');
        }
        for (Node n : g.nodes()) {
            StringBuilder line = new StringBuilder("  %").append(n.id()).append(" = ").append(n.op().opName()).append('(');
            StringJoiner args = new StringJoiner(", ");
            for (Value v : n.inputs()) args.add(v.toString());
            line.append(args).append(')');
            if (!n.attrs().names().isEmpty()) line.append(' ').append(n.attrs());
            line.append(" : ").append(n.type());
            if (n.source() != null) {
                while (line.length() < 60) line.append(' ');
                line.append("   # ").append(n.source());
            }
            sb.append(line).append('\n');
        }
        StringJoiner ret = new StringJoiner(", ");
        for (Value v : g.outputs()) ret.add(v.toString());
        sb.append("  return ").append(ret).append('\n');
        if (!g.assumptions().isEmpty()) {
            sb.append("  assumptions:\n");
            for (Assumption a : g.assumptions()) sb.append("    ").append(a).append('\n');
        }
        return sb.toString();
    }

    static String dot(Graph g) {
        StringBuilder sb = new StringBuilder("digraph \"").append(g.name()).append("\" {\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];\n");
        for (GraphInput in : g.inputs()) sb.append("  \"%").append(in.name()).append("\" [shape=ellipse, label=\"%").append(in.name()).append("\\n").append(in.type()).append("\"];\n");
        for (NamedTensor p : g.params()) sb.append("  \"").append(p.name()).append("\" [shape=note, label=\"").append(p.name()).append("\\n").append(p.type()).append("\"];\n");
        for (NamedTensor c : g.constants()) sb.append("  \"%").append(c.name()).append("\" [shape=note, label=\"%").append(c.name()).append("\\n").append(c.type()).append("\"];\n");
        for (Node n : g.nodes()) {
            sb.append("  \"%").append(n.id()).append("\" [label=\"%").append(n.id()).append(" ").append(n.op().opName()).append("\\n").append(n.type()).append("\"];\n");
            for (Value v : n.inputs()) sb.append("  \"").append(v).append("\" -> \"%").append(n.id()).append("\";\n");
        }
        int i = 0;
        for (Value v : g.outputs()) {
            sb.append("  \"out").append(i).append("\" [shape=ellipse, label=\"output ").append(i).append("\"];\n");
            sb.append("  \"").append(v).append("\" -> \"out").append(i++).append("\";\n");
        }
        return sb.append("}\n").toString();
    }
}
