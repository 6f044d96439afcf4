package dev.kiln.tracer;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.eager.OpObserver;
import dev.kiln.eager.Tensor;
import dev.kiln.graph.Assumption;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Guard;
import dev.kiln.graph.SymbolBindings;
import dev.kiln.graph.Value;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Listens to the dispatcher during one eager run and builds the graph: tensors the inputs
 * produced become SSA values, registered parameters become named parameters, any other
 * tensor becomes a constant. Everything the trace specializes on goes into the ledger.
 */
final class TraceRecorder implements OpObserver {
    private final GraphBuilder builder;
    private final TraceOptions options;
    private final Map<Tensor, Value> values = new IdentityHashMap<>();
    /** Values that depend on a graph input (reads of these are data-dependent). */
    private final Map<Value, Boolean> dynamic = new java.util.HashMap<>();
    private final SymbolBindings bindings;
    private final Map<Value, Value> stateUpdates = new LinkedHashMap<>();
    private final Map<Tensor, Value> stateRoots = new IdentityHashMap<>();
    private int constants;
    private boolean active = true;
    /** The recorder of the enclosing graph while this one traces a control-flow body, else null. */
    private final TraceRecorder parent;
    /** For a body: the enclosing graph's values it reads, in the order of the body inputs they became. */
    private final java.util.List<Value> captures = new java.util.ArrayList<>();
    /**
     * Recording a training step (traceStep): a scan that needs gradients is differentiated as a
     * reverse scan (ScanGradients), a cond or whileLoop that needs them is unrolled.
     */
    boolean stepMode;
    /**
     * Tensors computed inside an eager run of a control-flow construct: they are not graph values
     * (only the construct's outputs are), so using one outside is an error, not a constant.
     */
    final java.util.Set<Tensor> internal = java.util.Collections.newSetFromMap(new IdentityHashMap<>());

    TraceRecorder(GraphBuilder builder, TraceOptions options, SymbolBindings bindings) { this(builder, options, bindings, null); }

    private TraceRecorder(GraphBuilder builder, TraceOptions options, SymbolBindings bindings, TraceRecorder parent) {
        this.builder = builder;
        this.options = options;
        this.bindings = bindings;
        this.parent = parent;
    }

    /** A recorder for a body of a control-flow node recorded by this one. */
    TraceRecorder child(GraphBuilder body) {
        TraceRecorder c = new TraceRecorder(body, options, bindings, this);
        c.stepMode = stepMode; // a construct inside a training step's scan is part of that step
        return c;
    }

    /** The tensors this recorder saw computed (a body's intermediates: no value of the enclosing graph). */
    java.util.List<Tensor> computedTensors() {
        java.util.List<Tensor> out = new java.util.ArrayList<>();
        values.forEach((t, v) -> {
            if (v.kind() == Value.Kind.NODE) out.add(t);
        });
        return out;
    }

    GraphBuilder builder() { return builder; }

    TraceOptions options() { return options; }

    SymbolBindings bindings() { return bindings; }

    java.util.List<Value> captures() { return captures; }

    boolean isDynamic(Value v) { return dynamic.getOrDefault(v, false); }

    /** Maps t to v without any other bookkeeping (a control-flow node's outputs). */
    void define(Tensor t, Value v, boolean dyn) {
        values.put(t, v);
        dynamic.put(v, dyn);
    }

    /** True when t already is a value of this graph (or a parameter it will name). */
    boolean hasValue(Tensor t) { return values.containsKey(t) || options.params.containsKey(t); }

    /** True when t is a value of this graph or of an enclosing one. */
    private boolean knows(Tensor t) { return values.containsKey(t) || (parent != null && parent.knows(t)); }

    void bindInput(Tensor t, Value v) { bindInput(t, v, true); }

    private void bindInput(Tensor t, Value v, boolean dyn) {
        values.put(t, v);
        dynamic.put(v, dyn);
        Dim[] shape = builder.typeOf(v).shape();
        for (int d = 0; d < shape.length; d++) {
            if (!shape[d].isConstant() && shape[d].coefficient() == 1 && shape[d].symbols().size() == 1) {
                symbolSources.putIfAbsent(shape[d].symbols().get(0), new SymbolSource(v, d));
            }
        }
    }

    /** Where a symbol's value can be read at run time: dim {@code dim} of input {@code input}. */
    private record SymbolSource(Value input, int dim) {}

    private final Map<String, SymbolSource> symbolSources = new LinkedHashMap<>();

    @Override
    public Dim symbolicDim(Tensor t, int d) {
        if (!active) return null;
        Value v = values.get(t);
        return v == null ? null : builder.typeOf(v).dim(d);
    }

    /**
     * A symbolic size read into a Java number ({@code SymInt.intValue()}): strict tracing fails,
     * lenient tracing guards every symbol in it through the input dim that defines the symbol.
     */
    @Override
    public void onSizeRead(Dim dim, long value, String what) {
        if (!active) return;
        String src = SourceLines.caller();
        if (options.strict) {
            throw new TraceException("size read at " + src + ": " + what + " reads " + dim + " (" + value + " in this trace) into a Java"
                    + " number, so the graph would keep this trace's value. Pass the SymInt itself to reshape/view/expand, or trace with"
                    + " TraceOptions.strict(false) to guard it (checked on every run)");
        }
        for (String symbol : dim.symbols()) {
            if (!guardedDims.add(symbol)) continue;
            SymbolSource s = symbolSources.get(symbol);
            if (s == null) throw new TraceException("size read at " + src + ": " + what + " uses symbol " + symbol + ", which no input defines");
            long bound = bindings.values().get(symbol);
            Value sz = builder.add(Op.SIZE, Attrs.of("dims", new int[] {s.dim()}), src, s.input());
            builder.addGuard(new Guard("shape", symbol + " == " + bound + " (" + what + ")", sz, new double[] {bound}, src));
            builder.addAssumption(new Assumption("guard", what + " read " + dim + " as " + value + "; the graph is guarded to " + symbol + " == " + bound, src));
        }
    }

    private final int[] captureCount = {0};

    /** One counter per root graph, so capture inputs have distinct names in every body (cond's branches share their inputs). */
    private int[] captureCounter() { return parent != null ? parent.captureCounter() : captureCount; }

    @Override
    public Tensor[] onControlFlow(dev.kiln.eager.ControlFlow.Call call) {
        if (!active) return null;
        return ControlFlowRecorder.record(this, call);
    }

    /** Stops recording (reads after the traced function returned are not assumptions). */
    void stop() { active = false; }


    Value valueOf(Tensor t) {
        Value v = values.get(t);
        if (v != null) return v;
        if (internal.contains(t)) {
            throw new TraceException("a tensor " + t.typeString() + " computed inside a cond/whileLoop/scan is used outside it at "
                    + SourceLines.caller() + ": only the construct's outputs are graph values. A gradient flowing back through the"
                    + " construct inside a traced function, or a tensor a lambda stored outside, does this; trace a training step"
                    + " with Tracer.traceStep, and return what you need as an output of the lambda");
        }
        if (parent != null && (parent.knows(t) || options.params.containsKey(t) || t.data().numel() > 1)) {
            // a body reads an enclosing value (a weight, an earlier result) as an extra input: a capture
            Value outer = parent.valueOf(t);
            v = builder.addInput("cap" + captureCounter()[0]++, parent.builder.typeOf(outer));
            captures.add(outer);
            bindInput(t, v, parent.isDynamic(outer));
            return v;
        }
        String name = options.params.get(t);
        if (name != null) {
            // a snapshot: graphs are immutable, later training of the eager module must not change them
            v = builder.addParam(name, t.type(), Copy.toContiguous(t.data(), t.dtype()));
        } else {
            String cname = "c" + constants++;
            // snapshot: later in-place writes to the captured tensor must not change the graph
            Strided snap = Copy.toContiguous(t.data(), t.dtype());
            v = builder.addConstant(cname, t.type(), snap);
            if (t.data().numel() > 1) {
                builder.addAssumption(new Assumption("captured-constant",
                        "tensor " + t.typeString() + " not produced from the inputs is baked in as %" + cname, SourceLines.caller()));
            }
        }
        values.put(t, v);
        return v;
    }

    @Override
    public void onOp(Op op, Attrs attrs, Tensor[] inputs, Tensor output) {
        if (!active) return;
        String src = SourceLines.caller();
        Value[] in = new Value[inputs.length];
        boolean dyn = false;
        for (int i = 0; i < inputs.length; i++) {
            in[i] = valueOf(inputs[i]);
            dyn |= dynamic.getOrDefault(in[i], false);
        }
        TensorType symbolic;
        try {
            TensorType[] ts = new TensorType[in.length];
            for (int i = 0; i < in.length; i++) ts[i] = builder.typeOf(in[i]);
            symbolic = op.def().inferType(ts, attrs);
        } catch (IllegalArgumentException e) {
            for (int i = 0; i < in.length; i++) {
                if (in[i].kind() == Value.Kind.CONST && inputs[i].data().numel() > 1) {
                    throw new TraceException(op.opName() + " at " + src + " mixes a dynamic dim with captured tensor " + in[i] + " "
                            + inputs[i].typeString() + ": " + e.getMessage() + ". A tensor created with a literal size (Tensor.zeros(batch, ...))"
                            + " pins the batch; derive it from an input instead (Tensor.zerosLike, expand(-1, ...), expandAs)", e);
                }
            }
            throw new TraceException(op.opName() + " at " + src + " pins a dynamic dim: " + e.getMessage()
                    + ". The attribute was computed from a concrete size; use -1 in reshape (e.g. reshape(-1, 400)), flatten(1)"
                    + " or expandAs(other) instead of a literal batch size", e);
        }
        int[] concrete = output.data().shape();
        int[] expect = bindings.concreteShape(symbolic);
        if (!Arrays.equals(concrete, expect)) {
            throw new TraceException(op.opName() + " at " + src + ": the graph type " + symbolic + " disagrees with the eager result "
                    + output.typeString() + "; an attribute was probably computed from a dynamic size");
        }
        warnOnLiteralSizes(op, attrs, src);
        if (op.opName().startsWith("rand")) {
            builder.addAssumption(new Assumption("rng", op.opName() + " " + attrs + " draws fixed random numbers", src));
        }
        Value v = builder.addTyped(op, attrs, symbolic, src, in);
        values.put(output, v);
        dynamic.put(v, dyn);
    }

    /**
     * A size attribute equal to a symbol's trace-time value may have been read from the batch
     * (x.shape(0)) and would pin it; it may also be a coincidence, so it is a ledger warning,
     * not an error. Picking example sizes unlike the model's dims avoids coincidences.
     */
    private void warnOnLiteralSizes(Op op, Attrs attrs, String src) {
        for (String name : new String[] {"shape", "repeats"}) {
            if (!attrs.has(name) || !(attrs.get(name) instanceof int[] sizes)) continue;
            for (int v : sizes) {
                if (v <= 1) continue;
                for (var e : bindings.values().entrySet()) {
                    if (e.getValue() == v) {
                        builder.addAssumption(new Assumption("literal-size", op.opName() + " " + name + "=" + Arrays.toString(sizes)
                                + " contains " + v + ", the trace-time value of " + e.getKey() + "; if it was read from a shape, the graph"
                                + " is pinned to it (use reshape(-1, ...), flatten or expandAs)", src));
                        return;
                    }
                }
            }
        }
    }

    @Override
    public void onInPlace(Tensor target, Tensor value) {
        if (!active) return;
        Value v = values.get(value);
        if (v == null) return;
        Value before = valueOf(target);
        // the first value a mutated parameter or captured tensor had is the state it came in with
        Value root = stateRoots.computeIfAbsent(target, t -> before);
        if (parent != null && root.kind() == Value.Kind.INPUT) {
            // a body's inputs are its arguments and the enclosing values it reads: writing one would
            // change the caller's tensor while tracing (once per traced branch and again when run)
            // and would not be in the graph
            throw new TraceException("in-place write at " + SourceLines.caller() + " to " + root + ", an input of a cond/whileLoop/scan body"
                    + " (an argument or a tensor it reads from outside, such as batch norm's running statistics in train mode): bodies"
                    + " must be pure; compute a new tensor and return it instead");
        }
        values.put(target, v);
        if (root.kind() == Value.Kind.PARAM || root.kind() == Value.Kind.CONST) stateUpdates.put(root, v);
    }

    /** Parameters and captured tensors written in place during the trace, with their final values. */
    Map<Value, Value> stateUpdates() { return stateUpdates; }

    /** The live tensor behind a state root value. */
    Tensor stateTensor(Value root) {
        for (var e : stateRoots.entrySet()) if (e.getValue().equals(root)) return e.getKey();
        throw new IllegalStateException("no state tensor for " + root);
    }

    /**
     * A device move: the copy was recorded as a clone already (so the result is a graph value);
     * graphs have no devices, so the move itself is written in the ledger: the graph runs all
     * of it wherever it is executed.
     */
    @Override
    public void onDeviceMove(Tensor source, Tensor result) {
        if (!active) return;
        Value v = values.get(result);
        String what = v != null ? v + " " : "";
        builder.addAssumption(new Assumption("device", "to(" + result.device() + ") of " + what + result.typeString() + " from "
                + source.device() + " is recorded as a copy; the graph runs on the device that executes it", SourceLines.caller()));
    }

    @Override
    public void onRead(Tensor t, String what) {
        if (!active) return;
        Value v = values.get(t);
        if (v == null || !dynamic.getOrDefault(v, false)) return;
        String src = SourceLines.caller();
        String desc = what + " of " + v + " " + t.typeString();
        if (options.strict) {
            throw new TraceException("data-dependent read at " + src + ": " + desc + " turns a traced value into a Java value, "
                    + "so the graph would silently bake in this run's result. Keep the computation in tensor ops (e.g. Tensor.where "
                    + "instead of an if), or trace with TraceOptions.strict(false) to record a guard checked on every run");
        }
        double[] seen = Copy.toContiguous(t.data(), DType.FLOAT64).storage().f64();
        builder.addGuard(new Guard("value", desc + " == " + (seen.length <= 8 ? Arrays.toString(seen) : seen.length + " values"), v, seen, src));
        builder.addAssumption(new Assumption("guard", desc + " is assumed to equal this trace's value", src));
    }

    /** detach(): the alias is the same graph value (a parameter, too, once it is one). */
    @Override
    public void onAlias(Tensor source, Tensor alias) {
        if (!active) return;
        Value v = values.get(source);
        if (v == null && options.params.containsKey(source)) v = valueOf(source);
        if (v != null) values.put(alias, v);
    }

    /** Symbolic dims already guarded by a shape read (one guard per dim expression). */
    private final java.util.Set<String> guardedDims = new java.util.HashSet<>();

    /**
     * A traced value's sizes read into Java. A dim that is symbolic in the graph would be baked
     * in silently by whatever the Java code computes from it (a loop bound, a reshape size):
     * strict tracing stops here with the line and the fix; lenient tracing guards the dim's
     * value (a {@code size} node checked on every run), which TracedFunction retraces on.
     */
    @Override
    public void onShapeRead(Tensor t, int[] dims, String what) {
        if (!active) return;
        Value v = values.get(t);
        if (v == null) return; // not derived from the trace: its shape is fixed anyway
        TensorType type = builder.typeOf(v);
        int[] read = dims;
        if (read == null) {
            read = new int[type.rank()];
            for (int d = 0; d < read.length; d++) read[d] = d;
        }
        for (int d : read) {
            Dim dim = type.dim(d);
            if (dim.isConstant()) continue;
            long size = t.data().shape()[d];
            String src = SourceLines.caller();
            String desc = what + " of " + v + " " + type;
            if (options.strict) {
                throw new TraceException("shape read at " + src + ": " + desc + " reads the dynamic dim " + dim + " (" + size
                        + " in this trace) into a Java int, so the graph would silently keep this trace's size. Keep shape code"
                        + " symbolic (x.sizeSym(d) for sizes passed to reshape/view/expand, reshape with -1, flatten/unflatten, expandAs,"
                        + " zerosLike; loop over a dynamic dim with Tensor ops instead of Java), or trace with TraceOptions.strict(false) to guard " + dim + " == " + size
                        + " (checked on every run; TracedFunction retraces when it fails)");
            }
            if (!guardedDims.add(dim.toString())) continue;
            Value sz = builder.add(Op.SIZE, Attrs.of("dims", new int[] {d}), src, v);
            builder.addGuard(new Guard("shape", dim + " == " + size + " (" + desc + ")", sz, new double[] {size}, src));
            builder.addAssumption(new Assumption("guard", desc + " read dim " + dim + " as " + size + "; the graph is guarded to "
                    + dim + " == " + size, src));
        }
    }

    static Dim[] symbolicShape(Tensor t, int index, TraceOptions o) {
        Dim[] s = Dim.of(t.data().shape());
        for (TraceOptions.DynamicDim d : o.dynamic) {
            if (d.input() == index) {
                if (d.dim() < 0 || d.dim() >= s.length) {
                    throw new TraceException("dynamic(" + d.input() + ", " + d.dim() + ", " + d.symbol() + "): input " + index + " "
                            + t.typeString() + " has no dim " + d.dim());
                }
                s[d.dim()] = Dim.symbol(d.symbol());
            }
        }
        return s;
    }
}
