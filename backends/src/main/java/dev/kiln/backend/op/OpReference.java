package dev.kiln.backend.op;

import java.util.stream.Collectors;

/** Generates docs/ops.md from the op table, so the reference cannot drift from the code. */
public final class OpReference {
    private OpReference() {}

    public static String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("# Kiln primitive ops\n\n");
        sb.append("Generated from `Op.java` (`dev.kiln.backend.op.Op`) by `OpReference` (regenerate with\n");
        sb.append("`mvn -q -pl backends test -Dtest=OpReferenceTest -Dkiln.updateDocs=true`).\n");
        sb.append("Every op has one definition site: name, inputs, attributes, type rule and kernel.\n");
        sb.append("Composite operations (mean, var, std, logsumexp, max(dim), sort, topk, stack, split, ...)\n");
        sb.append("are Tensor methods (`dev.kiln.eager.Tensor`) and `F` functions (`dev.kiln.eager.nn.functional.F`)\n");
        sb.append("built from these primitives.\n\n");
        sb.append("| op | kind | inputs | attributes | differentiable |\n|---|---|---|---|---|\n");
        for (Op op : Op.values()) {
            OpDef d = op.def();
            sb.append("| [`").append(d.name()).append("`](#").append(d.name()).append(") | ").append(d.kind().name().toLowerCase())
                    .append(" | ").append(arity(d)).append(" | ").append(attrs(d)).append(" | ")
                    .append(d.isControlFlow() ? "through its bodies" : d.differentiable() ? "yes" : "no").append(" |\n");
        }
        sb.append('\n');
        for (Op op : Op.values()) {
            OpDef d = op.def();
            sb.append("## ").append(d.name()).append("\n\n");
            sb.append(d.doc()).append(".\n\n");
            sb.append("- inputs: ").append(arity(d)).append('\n');
            sb.append("- attributes: ").append(attrs(d)).append('\n');
            sb.append("- differentiable: ").append(d.isControlFlow()
                    ? "through its bodies: eagerly (dev.kiln.eager.ControlFlow) gradients flow through the ops the lambdas ran; a traced"
                            + " training step differentiates a scan as a reverse scan (ScanGradients) and unrolls a cond or while_loop; the node"
                            + " has no gradient rule of its own"
                    : d.differentiable() ? "yes" : "no (explicitly marked)").append('\n');
            if (d.isControlFlow()) sb.append("- holds bodies (subgraphs); its output types come from them (graph-opt `ControlFlowTypes`)\n");
            if (d.isView()) sb.append("- eager result is a view sharing the input's storage when the layout allows\n");
            if (d.elementwise() != null) sb.append("- elementwise: ").append(elementwise(d)).append('\n');
            sb.append('\n');
        }
        return sb.toString();
    }

    /** The spec as every backend reads it, shown for the op's default attributes. */
    private static String elementwise(OpDef d) {
        ElementwiseSpec e = d.elementwise();
        if (e.form() == ElementwiseSpec.Form.CONVERSION) return "a conversion (identity on the converted element) in fused loops and kernels";
        Attrs a = d.attrSpecs().stream().anyMatch(AttrSpec::required) ? null : d.checkAttrs(Attrs.EMPTY);
        String[] args = e.arity() == 1 ? new String[] {"x"} : new String[] {"a", "b"};
        Object rows = e.form() == ElementwiseSpec.Form.UNARY ? (a == null ? null : e.unaryRows(a))
                : e.form() == ElementwiseSpec.Form.BINARY ? e.binaryRows() : e.compareRows();
        String scalar = e.form() == ElementwiseSpec.Form.PREDICATE ? "the scalar test" : "the scalar function, rounded once";
        return e.form().name().toLowerCase() + "; float32 CPU rows: " + (rows == null ? scalar : "`FloatRows." + rows + "`")
                + (a == null ? "" : "; CUDA: `" + e.cuda(a, "float", args) + "`");
    }

    private static String arity(OpDef d) {
        if (d.maxInputs() == Integer.MAX_VALUE) return d.minInputs() + " or more";
        if (d.minInputs() == d.maxInputs()) return Integer.toString(d.minInputs());
        return d.minInputs() + " to " + d.maxInputs();
    }

    private static String attrs(OpDef d) {
        if (d.attrSpecs().isEmpty()) return "none";
        return d.attrSpecs().stream().map(OpReference::describe).collect(Collectors.joining(", "));
    }

    private static String describe(AttrSpec s) {
        StringBuilder sb = new StringBuilder("`").append(s.name()).append("`: ").append(s.type().name().toLowerCase());
        if (s.choices() != null) sb.append(" (").append(String.join("/", s.choices())).append(')');
        if (s.defaultValue() instanceof int[] a) sb.append(" = ").append(java.util.Arrays.toString(a));
        else if (s.defaultValue() != null) sb.append(" = ").append(s.defaultValue());
        else if (s.optional()) sb.append(" (optional)");
        else sb.append(" (required)");
        return sb.toString();
    }
}
