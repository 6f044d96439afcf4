package dev.kiln.tracer;

import dev.kiln.backend.Strided;
import dev.kiln.eager.Device;
import dev.kiln.eager.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphException;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A function that traces itself on first use and then runs the graph. Graphs are cached by
 * input signature (dtypes and static dims; dims marked dynamic are wildcards); a miss or a
 * failed guard retraces and logs why, and a retrace budget turns retrace storms into an error
 * that lists every reason.
 */
public final class TracedFunction {
    private static final System.Logger LOG = System.getLogger("dev.kiln.tracer");

    private final Function<Tensor[], Tensor> fn;
    private final TraceOptions options;
    private final int budget;
    private final Map<String, Graph> cache = new LinkedHashMap<>();
    /**
     * The compiled plan of each cached graph per device its inputs were on (O2, parameters
     * frozen: the graph holds a snapshot; on a GPU each fused group is one generated kernel).
     */
    private final Map<Graph, Map<Device, CompiledGraph>> compiled = new java.util.IdentityHashMap<>();
    private final List<String> reasons = new ArrayList<>();
    private int traces;

    public TracedFunction(Function<Tensor[], Tensor> fn, TraceOptions options, int retraceBudget) {
        this.fn = fn;
        this.options = options;
        this.budget = retraceBudget;
    }

    /** Retrace budget 8, as the tracer issue specifies. */
    public TracedFunction(Function<Tensor[], Tensor> fn, TraceOptions options) { this(fn, options, 8); }

    public synchronized Tensor call(Tensor... inputs) {
        String sig = signature(inputs, false), exact = signature(inputs, true);
        // a graph a shape guard pinned to these sizes first, then the one for any size
        Graph g = cache.get(exact);
        String key = g != null ? exact : sig;
        if (g == null) g = cache.get(sig);
        if (g == null) g = retrace(sig, inputs, explainMiss(sig));
        try {
            return run(g, inputs);
        } catch (GraphException e) {
            if (!e.getMessage().contains("guard failed")) throw e;
            if (e.getMessage().contains("guard failed: the trace assumed") && isShapeGuard(g, e) && key.equals(sig)) {
                // a shape guard: keep the graph for the sizes it holds, and trace these sizes
                // under their own key, so alternating lengths do not retrace on every call
                return run(retrace(exact, inputs, e.getMessage()), inputs);
            }
            compiled.remove(cache.remove(key));
            return run(retrace(key, inputs, e.getMessage()), inputs);
        }
    }

    /** True when the failed guard is a shape guard of g or of one of its control-flow bodies. */
    private static boolean isShapeGuard(Graph g, GraphException e) {
        for (dev.kiln.graph.Guard gd : g.guards()) if (gd.kind().equals("shape") && e.getMessage().contains(gd.description())) return true;
        for (dev.kiln.graph.Node n : g.nodes()) for (Graph body : n.bodies()) if (isShapeGuard(body, e)) return true;
        return false;
    }

    private Tensor run(Graph g, Tensor[] inputs) {
        List<Strided> in = new ArrayList<>();
        for (Tensor t : inputs) in.add(t.data());
        Device d = Device.common(options.name, inputs); // where the graph runs, as eager's ops decide
        CompiledGraph c = compiled.computeIfAbsent(g, k -> new java.util.HashMap<>()).computeIfAbsent(d, k -> {
            CompileOptions o = CompileOptions.of(OptLevel.O2);
            return CompiledGraph.compile(g, d.isCpu() ? o : o.withDevice(d.executor()));
        });
        return Tensor.wrap(c.run(in).get(0), d);
    }

    private Graph retrace(String sig, Tensor[] inputs, String why) {
        if (traces++ > 0) {
            reasons.add(why);
            LOG.log(System.Logger.Level.INFO, "retracing " + options.name + ": " + why);
            if (reasons.size() > budget) {
                throw new TraceException("retrace budget of " + budget + " exceeded for " + options.name + "; reasons:\n  - "
                        + String.join("\n  - ", reasons) + "\nMark varying dims dynamic (TraceOptions.dynamic) or avoid data-dependent Java branches");
            }
        }
        Graph g = Tracer.trace(fn, inputs, optionsFor(inputs));
        cache.put(sig, g);
        return g;
    }

    /** The reasons of all retraces so far (first trace excluded). */
    public synchronized List<String> retraceReasons() { return List.copyOf(reasons); }

    public synchronized int cachedGraphs() { return cache.size(); }

    public synchronized Graph graphFor(Tensor... inputs) {
        Graph g = cache.get(signature(inputs, true));
        return g != null ? g : cache.get(signature(inputs, false));
    }

    /**
     * Dtypes and static dims; dims marked dynamic are wildcards, except sizes 0 and 1, which are
     * traced as static (a dynamic dim needs an example of at least 2: Tracer.record). With
     * {@code exact}, dynamic sizes too: the key of a graph a shape guard pinned to them.
     */
    private String signature(Tensor[] inputs, boolean exact) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < inputs.length; i++) {
            int[] s = inputs[i].data().shape().clone();
            for (TraceOptions.DynamicDim d : options.dynamic) if (d.input() == i && d.dim() < s.length && s[d.dim()] > 1 && !exact) s[d.dim()] = -1;
            sb.append(inputs[i].dtype().shortName()).append(Arrays.toString(s)).append(';');
        }
        return sb.toString();
    }

    /** The options for tracing these inputs: dynamic dims of size 0 or 1 here are traced static. */
    private TraceOptions optionsFor(Tensor[] inputs) {
        boolean small = false;
        for (TraceOptions.DynamicDim d : options.dynamic) {
            small |= d.input() < inputs.length && d.dim() < inputs[d.input()].dim() && inputs[d.input()].data().shape()[d.dim()] <= 1;
        }
        if (!small) return options;
        TraceOptions.Builder b = options.toBuilder().clearDynamic();
        for (TraceOptions.DynamicDim d : options.dynamic) {
            boolean tiny = d.input() < inputs.length && d.dim() < inputs[d.input()].dim() && inputs[d.input()].data().shape()[d.dim()] <= 1;
            if (!tiny) b.dynamic(d.input(), d.dim(), d.symbol());
        }
        return b.build();
    }

    private String explainMiss(String sig) {
        if (cache.isEmpty()) return "first call";
        String[] now = sig.split(";");
        StringBuilder best = null;
        for (String old : cache.keySet()) {
            String[] was = old.split(";");
            StringBuilder diff = new StringBuilder();
            if (was.length != now.length) diff.append("number of inputs changed ").append(was.length).append(" -> ").append(now.length);
            for (int i = 0; i < Math.min(was.length, now.length); i++) {
                if (!was[i].equals(now[i])) {
                    if (diff.length() > 0) diff.append("; ");
                    diff.append("input ").append(i).append(" changed ").append(was[i]).append(" -> ").append(now[i]);
                }
            }
            if (best == null || diff.length() < best.length()) best = diff;
        }
        return best + " (dims not marked dynamic are static)";
    }
}
