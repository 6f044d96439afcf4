package dev.kiln.backend.op;

import dev.kiln.backend.shape.ShapeException;
import dev.kiln.backend.shape.TensorType;
import java.util.List;
import java.util.TreeMap;

/**
 * The single definition site of a primitive op: its name, arity, attribute schema, type rule,
 * documentation and, for elementwise ops, what it computes ({@link ElementwiseSpec}, which every
 * backend reads). Other kernels (per backend) and gradient rules (in eager) are registered by
 * {@link Op} elsewhere; tests check that every op has all of them.
 */
public final class OpDef {
    private final String name;
    private final OpKind kind;
    private final int minInputs;
    private final int maxInputs;
    private final List<AttrSpec> attrs;
    private final ShapeRule rule;
    private final boolean differentiable;
    private final boolean view;
    private final String doc;
    private final ElementwiseSpec elementwise;

    private OpDef(Builder b) {
        this.name = b.name;
        this.kind = b.kind;
        this.minInputs = b.minInputs;
        this.maxInputs = b.maxInputs;
        this.attrs = List.copyOf(b.attrs);
        this.rule = b.rule;
        this.differentiable = b.differentiable;
        this.view = b.view;
        this.doc = b.doc;
        this.elementwise = b.elementwise == null ? null : b.elementwise.build();
    }

    public static Builder builder(String name, OpKind kind) { return new Builder(name, kind); }

    public String name() { return name; }

    public OpKind kind() { return kind; }

    public int minInputs() { return minInputs; }

    /** Maximum number of inputs, {@link Integer#MAX_VALUE} for variadic ops. */
    public int maxInputs() { return maxInputs; }

    public List<AttrSpec> attrSpecs() { return attrs; }

    /** False when the op is marked "not differentiable" (indices, comparisons, ...). */
    public boolean differentiable() { return differentiable; }

    /** True when eager execution returns a view sharing the input's storage. */
    public boolean isView() { return view; }

    public String doc() { return doc; }

    /** What the op computes element by element, for elementwise ops (read by every backend); null for the rest. */
    public ElementwiseSpec elementwise() { return elementwise; }

    /**
     * Checks attrs against the schema and fills defaults. Unknown names and bad values are
     * errors naming the op and the attribute.
     */
    public Attrs checkAttrs(Attrs given) {
        if (attrs.isEmpty()) {
            if (!given.names().isEmpty()) throw new IllegalArgumentException(name + ": unknown attribute(s) " + given.names() + " (this op takes none)");
            return Attrs.EMPTY;
        }
        // plain loops into one sorted map, no streams: this runs on every eager op with attributes
        TreeMap<String, Object> out = new TreeMap<>();
        for (String n : given.names()) {
            boolean known = false;
            for (AttrSpec s : attrs) known |= s.name().equals(n);
            if (!known) {
                throw new IllegalArgumentException(name + ": unknown attribute '" + n + "' (expected " + attrs.stream().map(AttrSpec::name).toList() + ")");
            }
        }
        for (AttrSpec s : attrs) {
            Object v = given.get(s.name());
            if (v == null) {
                if (s.required()) throw new IllegalArgumentException(name + ": attribute '" + s.name() + "' is required");
                if (s.defaultValue() != null) out.put(s.name(), s.check(name, s.defaultValue()));
            } else {
                out.put(s.name(), s.check(name, v));
            }
        }
        return Attrs.ofSorted(out);
    }

    /** Applies the type rule; {@code attrs} must already be checked. */
    public TensorType inferType(TensorType[] inputs, Attrs checkedAttrs) {
        if (inputs.length < minInputs || inputs.length > maxInputs) {
            String expected = minInputs == maxInputs ? Integer.toString(minInputs)
                    : maxInputs == Integer.MAX_VALUE ? "at least " + minInputs : minInputs + " to " + maxInputs;
            throw new ShapeException(name + ": expected " + expected + " input(s), got " + inputs.length);
        }
        return rule.infer(name, inputs, checkedAttrs);
    }

    /** True for structured control flow (cond, while_loop, scan): nodes with bodies, no kernel. */
    public boolean isControlFlow() { return kind == OpKind.CONTROL; }

    /**
     * The shape rule of control-flow ops: their types come from their bodies (subgraphs), which
     * this module does not know; graph-opt's ControlFlowTypes computes them.
     */
    static TensorType typedByBodies(String op, TensorType[] inputs, Attrs attrs) {
        throw new ShapeException(op + ": a control-flow node's types come from its bodies (graph-opt ControlFlowTypes), not from a shape rule");
    }

    @Override
    public String toString() { return name; }

    public static final class Builder {
        private final String name;
        private final OpKind kind;
        private int minInputs = 1;
        private int maxInputs = 1;
        private List<AttrSpec> attrs = List.of();
        private ShapeRule rule;
        private boolean differentiable = true;
        private boolean view;
        private String doc = "";
        private ElementwiseSpec.Builder elementwise;

        private Builder(String name, OpKind kind) {
            this.name = name;
            this.kind = kind;
        }

        public Builder inputs(int n) { minInputs = maxInputs = n; return this; }

        public Builder inputs(int min, int max) { minInputs = min; maxInputs = max; return this; }

        public Builder attrs(AttrSpec... specs) { attrs = List.of(specs); return this; }

        public Builder rule(ShapeRule r) { rule = r; return this; }

        public Builder notDifferentiable() { differentiable = false; return this; }

        public Builder view() { view = true; return this; }

        public Builder doc(String d) { doc = d; return this; }

        public Builder elementwise(ElementwiseSpec.Builder spec) { elementwise = spec; return this; }

        public OpDef build() {
            if (rule == null) throw new IllegalStateException(name + " has no shape rule");
            return new OpDef(this);
        }
    }
}
