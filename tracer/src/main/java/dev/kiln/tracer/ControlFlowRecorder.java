package dev.kiln.tracer;

import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.eager.ControlFlow;
import dev.kiln.eager.Dispatcher;
import dev.kiln.eager.OpObserver;
import dev.kiln.eager.Tensor;
import dev.kiln.graph.Assumption;
import dev.kiln.graph.ControlFlowTypes;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.GraphInput;
import dev.kiln.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Records a {@link ControlFlow} construct as one node: each lambda is traced once, on the
 * construct's own arguments, into a body (a subgraph whose inputs are the arguments followed by
 * the enclosing values it reads, its captures); the construct then runs eagerly, unrecorded, for
 * the values the rest of the trace continues with. In a traced training step a scan that needs
 * gradients goes through {@code ScanGradients} (a scan forward, a reverse scan backward, both
 * recorded here as nodes); a cond or whileLoop that needs them is unrolled, with its branch and
 * iteration count guarded.
 */
final class ControlFlowRecorder {
    private ControlFlowRecorder() {}

    static Tensor[] record(TraceRecorder rec, ControlFlow.Call call) {
        String src = SourceLines.caller();
        if (rec.stepMode && dev.kiln.eager.autograd.GradMode.isEnabled()) {
            // a training step differentiates what it records: a scan as one scan forward and one
            // reverse scan backward (both nodes, the length symbolic); cond and whileLoop unrolled
            if (call instanceof ControlFlow.Scan s) return dev.kiln.eager.autograd.ScanGradients.scan(s);
            return unrolled(rec, call, src);
        }
        if (call instanceof ControlFlow.Scan s) return scan(rec, s, src);
        if (call instanceof ControlFlow.Cond c) return cond(rec, c, src);
        return whileLoop(rec, (ControlFlow.While) call, src);
    }

    private static Tensor[] unrolled(TraceRecorder rec, ControlFlow.Call call, String src) {
        String what = name(call);
        rec.builder().addAssumption(new Assumption("control-flow", what + " is unrolled in a traced training step (its gradient is not"
                + " a graph op yet): the graph holds the branch taken and the number of iterations of this trace", src));
        // the branch and the iteration count come from reads of traced values: guards
        return null;
    }

    private static Tensor[] scan(TraceRecorder rec, ControlFlow.Scan s, String src) {
        int c = s.init().length, x = s.xs().length;
        GraphBuilder ob = rec.builder();
        int length = s.xs()[0].data().shape()[s.dim()];
        if (length == 0) throw new TraceException("scan at " + src + " runs 0 steps in this trace; trace it with at least one step");
        Tensor[] args = new Tensor[c + x];
        TensorType[] types = new TensorType[c + x];
        String[] names = new String[c + x];
        List<Value> inputs = new ArrayList<>();
        for (int i = 0; i < c; i++) {
            Value v = rec.valueOf(s.init()[i]);
            inputs.add(v);
            args[i] = s.init()[i];
            types[i] = ob.typeOf(v);
            names[i] = "carry" + i;
        }
        for (int j = 0; j < x; j++) {
            Value v = rec.valueOf(s.xs()[j]);
            inputs.add(v);
            Tensor xj = s.xs()[j];
            args[c + j] = unrecorded(() -> xj.select(s.dim(), s.reverse() ? length - 1 : 0));
            types[c + j] = ControlFlowTypes.drop(ob.typeOf(v), s.dim());
            names[c + j] = "x" + j;
        }
        Body body = traceBody(rec, "scan_body", args, types, names, in -> {
            ControlFlow.ScanOutput r = s.fn().apply(Arrays.copyOf(in, c), Arrays.copyOfRange(in, c, c + x));
            if (r == null) throw new TraceException("scan at " + src + ": the step function returned null");
            Tensor[] all = Arrays.copyOf(r.carries(), r.carries().length + r.ys().length);
            System.arraycopy(r.ys(), 0, all, r.carries().length, r.ys().length);
            return all;
        });
        inputs.addAll(body.captures);
        Tensor[] eager = runUnrecorded(rec, s);
        Attrs attrs = Attrs.of("carries", c, "captures", body.captures.size(), "dim", s.dim(), "reverse", s.reverse());
        return node(rec, Op.SCAN, attrs, List.of(body.graph), inputs, eager, src);
    }

    private static Tensor[] cond(TraceRecorder rec, ControlFlow.Cond c, String src) {
        if (c.pred() == null || c.pred().dim() != 0) {
            throw new TraceException("cond at " + src + ": the predicate must be a 0-d tensor, got " + (c.pred() == null ? "null" : c.pred().typeString()));
        }
        List<Value> inputs = new ArrayList<>();
        inputs.add(rec.valueOf(c.pred()));
        Args a = args(rec, c.operands(), "arg");
        inputs.addAll(a.values);
        Body then = traceBody(rec, "cond_then", c.operands(), a.types, a.names, c.then());
        Body otherwise = traceBody(rec, "cond_else", c.operands(), a.types, a.names, c.otherwise());
        List<Graph> bodies = unify(a.types.length, then, otherwise);
        inputs.addAll(then.captures);
        inputs.addAll(otherwise.captures);
        return node(rec, Op.COND, Attrs.EMPTY, bodies, inputs, runUnrecorded(rec, c), src);
    }

    private static Tensor[] whileLoop(TraceRecorder rec, ControlFlow.While w, String src) {
        Args a = args(rec, w.carries(), "carry");
        Body cond = traceBody(rec, "while_cond", w.carries(), a.types, a.names, in -> {
            Tensor t = w.cond().apply(in);
            if (t == null) throw new TraceException("whileLoop at " + src + ": the cond function returned null");
            return new Tensor[] {t};
        });
        Body body = traceBody(rec, "while_body", w.carries(), a.types, a.names, w.body());
        List<Graph> bodies = unify(a.types.length, cond, body);
        List<Value> inputs = new ArrayList<>(a.values);
        inputs.addAll(cond.captures);
        inputs.addAll(body.captures);
        Attrs attrs = Attrs.of("captures", cond.captures.size() + body.captures.size());
        return node(rec, Op.WHILE_LOOP, attrs, bodies, inputs, runUnrecorded(rec, w), src);
    }

    private record Args(List<Value> values, TensorType[] types, String[] names) {}

    private static Args args(TraceRecorder rec, Tensor[] ts, String prefix) {
        List<Value> values = new ArrayList<>();
        TensorType[] types = new TensorType[ts.length];
        String[] names = new String[ts.length];
        for (int i = 0; i < ts.length; i++) {
            if (ts[i] == null) throw new TraceException(prefix + " " + i + " of a control-flow construct is null");
            Value v = rec.valueOf(ts[i]);
            values.add(v);
            types[i] = rec.builder().typeOf(v);
            names[i] = prefix + i;
        }
        return new Args(values, types, names);
    }

    /** A lambda traced once: its graph and the enclosing values it captured (its trailing inputs). */
    private record Body(Graph graph, List<Value> captures) {}

    private static Body traceBody(TraceRecorder rec, String name, Tensor[] args, TensorType[] types, String[] names,
                                  Function<Tensor[], Tensor[]> fn) {
        GraphBuilder b = Graph.builder(name);
        TraceRecorder child = rec.child(b);
        // fresh aliases: the body's inputs are new values even where the caller passes one tensor twice
        Tensor[] in = new Tensor[args.length];
        for (int i = 0; i < args.length; i++) {
            Tensor arg = args[i];
            in[i] = unrecorded(arg::detach);
            child.bindInput(in[i], b.addInput(names[i], types[i]));
        }
        OpObserver prev = Dispatcher.setObserver(child);
        Tensor[] out;
        try {
            out = fn.apply(in.clone());
        } finally {
            Dispatcher.setObserver(prev);
        }
        if (out == null) throw new TraceException(name + ": the lambda returned null");
        OpObserver again = Dispatcher.setObserver(child);
        try {
            for (int i = 0; i < out.length; i++) {
                if (out[i] == null) throw new TraceException(name + ": the lambda returned null at " + i);
                b.output(child.valueOf(out[i]));
            }
        } finally {
            child.stop();
            Dispatcher.setObserver(again);
        }
        // what the body computed while being traced exists in no graph of the enclosing trace
        rec.internal.addAll(child.computedTensors());
        Graph g = b.build();
        // the body's ledger goes to the enclosing graph's, where users read it
        for (Assumption as : g.assumptions()) {
            rec.builder().addAssumption(new Assumption(as.kind(), "in " + name + ": " + as.description(), as.source()));
        }
        List<GraphInput> inputs = g.inputs();
        return new Body(withInputs(g, inputs), List.copyOf(child.captures()));
    }

    /** Both bodies take the same inputs: the shared arguments, then the first's captures, then the second's. */
    private static List<Graph> unify(int shared, Body first, Body second) {
        List<GraphInput> all = new ArrayList<>(first.graph.inputs());
        all.addAll(second.graph.inputs().subList(shared, second.graph.inputs().size()));
        return List.of(withInputs(first.graph, all), withInputs(second.graph, all));
    }

    /** The body with these inputs (a superset of its own, in the node's order) and no ledger of its own. */
    private static Graph withInputs(Graph g, List<GraphInput> inputs) {
        GraphBuilder b = Graph.builder(g.name());
        for (GraphInput in : inputs) b.addInput(in.name(), in.type());
        return b.copyBody(g, java.util.Map.of()).build();
    }

    /**
     * The construct's eager run, unrecorded: every tensor it computes is marked internal, so a
     * later use outside the construct (other than its outputs) is an error, not a silent constant.
     */
    private static Tensor[] runUnrecorded(TraceRecorder rec, ControlFlow.Call call) {
        Set<Tensor> internal = rec.internal;
        OpObserver sentinel = new OpObserver() {
            @Override
            public void onOp(Op op, Attrs attrs, Tensor[] inputs, Tensor output) { internal.add(output); }

            @Override
            public void onAlias(Tensor source, Tensor alias) { internal.add(alias); }
        };
        OpObserver prev = Dispatcher.setObserver(sentinel);
        try {
            return call.runEagerly();
        } finally {
            Dispatcher.setObserver(prev);
        }
    }

    private static Tensor[] node(TraceRecorder rec, Op op, Attrs attrs, List<Graph> bodies, List<Value> inputs, Tensor[] eager, String src) {
        List<Value> outs;
        try {
            outs = rec.builder().addControl(op, attrs, bodies, src, inputs.toArray(new Value[0]));
        } catch (IllegalArgumentException e) {
            throw new TraceException(op.opName() + " at " + src + ": " + e.getMessage(), e);
        }
        if (outs.size() != eager.length) {
            throw new TraceException(op.opName() + " at " + src + ": the traced bodies give " + outs.size() + " outputs, the eager run " + eager.length);
        }
        boolean dyn = false;
        for (Value v : inputs) dyn |= rec.isDynamic(v);
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Tensor[] result = new Tensor[eager.length];
        for (int i = 0; i < eager.length; i++) {
            Tensor t = eager[i];
            // an output that is an argument passed through, or returned twice, is a new value here
            if (!seen.add(t) || rec.hasValue(t)) t = unrecorded(t::detach);
            TensorType type = rec.builder().typeOf(outs.get(i));
            if (!Arrays.equals(rec.bindings().concreteShape(type), t.data().shape()) || type.dtype() != t.dtype()) {
                throw new TraceException(op.opName() + " at " + src + ": output " + i + " has the graph type " + type + " but the eager run gave "
                        + t.typeString() + "; a step or branch computed a size from a dynamic dim");
            }
            rec.define(t, outs.get(i), dyn);
            result[i] = t;
        }
        return result;
    }

    private static String name(ControlFlow.Call call) {
        return call instanceof ControlFlow.Scan ? "scan" : call instanceof ControlFlow.Cond ? "cond" : "whileLoop";
    }

    /** Runs f with no observer: slicing and aliasing for a body's example arguments are not part of any graph. */
    private static Tensor unrecorded(java.util.function.Supplier<Tensor> f) {
        OpObserver prev = Dispatcher.setObserver(null);
        try {
            return f.get();
        } finally {
            Dispatcher.setObserver(prev);
        }
    }
}
