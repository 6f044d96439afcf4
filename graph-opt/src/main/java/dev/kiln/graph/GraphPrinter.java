package dev.kiln.graph;

import dev.kiln.backend.cpu.Copy;
import dev.kiln.backend.DType;
import java.util.StringJoiner;

/** The graph's text form and Graphviz DOT. */
final class GraphPrinter {
    private GraphPrinter() {}

    /** Every line is escaped ({@link Printable}) before its newline: names, sources and ledger text come from files too. */
    static String text(Graph g) {
        StringBuilder sb = new StringBuilder();
        text(g, "", sb);
        return sb.toString();
    }

    /** A body prints as a graph of its own, indented under its node. */
    private static void text(Graph g, String indent, StringBuilder sb) {
        StringJoiner ins = new StringJoiner(", ");
        for (GraphInput in : g.inputs()) ins.add("%" + in.name() + ": " + in.type());
        StringJoiner outs = new StringJoiner(", ");
        for (Value v : g.outputs()) outs.add(String.valueOf(g.typeOf(v)));
        line(sb, indent + "graph " + g.name() + "(" + ins + ") -> (" + outs + ")");
        for (NamedTensor p : g.params()) line(sb, indent + "  param " + p.name() + ": " + p.type());
        for (NamedTensor c : g.constants()) {
            String l = indent + "  const %" + c.name() + ": " + c.type();
            if (c.data() != null && c.data().numel() == 1) {
                double v = Copy.toContiguous(c.data(), DType.FLOAT64).storage().f64()[0];
                l += " = " + (c.type().dtype().isFloatingPoint() ? Double.toString(v) : Long.toString((long) v));
            }
            line(sb, l);
        }
        for (Node n : g.nodes()) {
            StringBuilder line = new StringBuilder(indent).append("  ");
            StringJoiner outs1 = new StringJoiner(", ");
            for (Value v : n.outputs()) outs1.add(v.toString());
            line.append(outs1).append(" = ").append(n.op().opName()).append('(');
            StringJoiner args = new StringJoiner(", ");
            for (Value v : n.inputs()) args.add(v.toString());
            line.append(args).append(')');
            if (!n.attrs().names().isEmpty()) line.append(' ').append(n.attrs());
            StringJoiner types = new StringJoiner(", ");
            for (var t : n.types()) types.add(t.toString());
            line.append(" : ").append(types);
            if (n.source() != null) {
                while (line.length() < 60 + indent.length()) line.append(' ');
                line.append("   # ").append(n.source());
            }
            line(sb, line.toString());
            for (int b = 0; b < n.bodies().size(); b++) {
                line(sb, indent + "    body " + b + ":");
                text(n.bodies().get(b), indent + "      ", sb);
            }
        }
        StringJoiner ret = new StringJoiner(", ");
        boolean defaults = true;
        for (int i = 0; i < g.outputs().size(); i++) {
            ret.add(g.outputs().get(i).toString());
            defaults &= g.outputNames().get(i).equals("output" + i);
        }
        // names other than the default output0, output1, ... are part of what the graph means to clients
        line(sb, indent + "  return " + ret + (defaults ? "" : "   # as " + String.join(", ", g.outputNames())));
        if (!g.assumptions().isEmpty()) {
            line(sb, indent + "  assumptions:");
            for (Assumption a : g.assumptions()) line(sb, indent + "    " + a);
        }
    }

    private static void line(StringBuilder sb, String text) { sb.append(Printable.escape(text)).append('\n'); }

    static String dot(Graph g) {
        StringBuilder sb = new StringBuilder("digraph \"").append(g.name()).append("\" {\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];\n");
        for (GraphInput in : g.inputs()) sb.append("  \"%").append(in.name()).append("\" [shape=ellipse, label=\"%").append(in.name()).append("\\n").append(in.type()).append("\"];\n");
        for (NamedTensor p : g.params()) sb.append("  \"").append(p.name()).append("\" [shape=note, label=\"").append(p.name()).append("\\n").append(p.type()).append("\"];\n");
        for (NamedTensor c : g.constants()) sb.append("  \"%").append(c.name()).append("\" [shape=note, label=\"%").append(c.name()).append("\\n").append(c.type()).append("\"];\n");
        for (Node n : g.nodes()) {
            sb.append("  \"%").append(n.id()).append("\" [label=\"%").append(n.id()).append(" ").append(n.op().opName()).append("\\n").append(n.types().size() == 1 ? n.type().toString() : n.types().toString()).append("\"];\n");
            // a later output of a control-flow node is its own dot node, fed by the node
            for (int i = 1; i < n.types().size(); i++) sb.append("  \"").append(n.output(i)).append("\" [shape=point];\n  \"%").append(n.id()).append("\" -> \"").append(n.output(i)).append("\";\n");
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
