package dev.kiln.graph.exec;

import dev.kiln.backend.Strided;
import dev.kiln.graph.Graph;
import dev.kiln.graph.SymbolBindings;
import dev.kiln.graph.opt.OptimizationResult;
import dev.kiln.graph.opt.PassReport;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A graph compiled for the CPU: optimized by the passes of its level, grouped into steps once,
 * and planned (buffers, scratch, guards) per binding of its symbolic dims; or, with
 * {@link CompileOptions#withDevice}, for a device ({@link DevicePlan}). Plans are cached by
 * binding; the first run with a new batch size plans it (once, even under contention), later
 * runs reuse it. Immutable and safe to share between threads.
 */
public final class CompiledGraph {
    private final Graph source;
    private final Graph graph;
    private final PassReport report;
    private final CompileOptions options;
    private final List<StepSpec> specs;
    private final Map<Map<String, Long>, Plan> plans = new ConcurrentHashMap<>();
    /** The device plan when compiled with {@link CompileOptions#withDevice}, else null. */
    private final DevicePlan devicePlan;

    /** Each control-flow node's bodies, compiled once (their own plans cached per binding): no planning per step. */
    private final Map<dev.kiln.graph.Node, List<CompiledGraph>> bodies = new java.util.HashMap<>();

    private CompiledGraph(Graph source, OptimizationResult opt, CompileOptions options) {
        this.source = source;
        this.graph = opt.graph();
        this.report = opt.report();
        this.options = options;
        this.specs = List.copyOf(FusionPlanner.plan(graph, options.fuse(), options.device() == null));
        this.devicePlan = options.device() == null ? null : new DevicePlan(graph, specs, options.device());
        // the pass manager optimized the bodies with the graph; they are planned as they are
        CompileOptions bodyOptions = options.withDonatedParams(java.util.Set.of());
        for (dev.kiln.graph.Node n : graph.nodes()) {
            if (n.bodies().isEmpty()) continue;
            List<CompiledGraph> compiled = new java.util.ArrayList<>();
            for (Graph body : n.bodies()) compiled.add(new CompiledGraph(body, new OptimizationResult(body, new PassReport(List.of())), bodyOptions));
            bodies.put(n, List.copyOf(compiled));
        }
    }

    public static CompiledGraph compile(Graph g, CompileOptions options) {
        for (String name : options.donatedParams()) {
            if (g.params().stream().noneMatch(p -> p.name().equals(name))) {
                throw new dev.kiln.graph.GraphException(g.name() + ": donated parameter " + name + " is not a parameter of the graph");
            }
        }
        return new CompiledGraph(g, options.passManager().run(g), options);
    }

    /** Runs the plan for these inputs' symbol values; errors name the node and its source line. */
    public List<Strided> run(List<Strided> inputs) {
        SymbolBindings sym = SymbolBindings.bind(graph, inputs);
        return devicePlan != null ? devicePlan.run(inputs, Map.of(), sym) : plan(sym).run(inputs);
    }

    /**
     * Runs with some parameters replaced by other data of the same type: a compiled training
     * step feeds its updated state back this way (compile it without freezing parameters).
     */
    public List<Strided> run(List<Strided> inputs, Map<dev.kiln.graph.Value, Strided> overrides) {
        if (!overrides.isEmpty() && options.freezeParams()) {
            throw new IllegalStateException(graph.name() + ": parameters were frozen into constants at compile time; "
                    + "compile with CompileOptions.withFreezeParams(false) to feed parameter values per run");
        }
        SymbolBindings sym = SymbolBindings.bind(graph, inputs);
        return devicePlan != null ? devicePlan.run(inputs, overrides, sym) : plan(sym).run(inputs, overrides);
    }

    private Plan plan(SymbolBindings sym) {
        if (devicePlan != null) {
            throw new IllegalStateException(graph.name() + ": compiled for " + options.device().deviceName()
                    + ", whose memory comes from the device's caching allocator: buffer plans and their byte counts are CPU-only");
        }
        return plans.computeIfAbsent(sym.values(), k -> new Plan(graph, specs, sym, options, bodies));
    }

    /** The plan for one binding of the symbols (empty for static graphs), as text. */
    public String explain(Map<String, Long> symbols) {
        return devicePlan != null ? devicePlan.explain() : plan(SymbolBindings.of(symbols)).explain();
    }

    /** Peak bytes of intermediates of the plan for these symbol values. */
    public long peakBytes(Map<String, Long> symbols) { return plan(SymbolBindings.of(symbols)).peakBytes(); }

    /** Bytes all intermediates would take if each had its own buffer (the unplanned baseline). */
    public long sumIntermediateBytes(Map<String, Long> symbols) { return plan(SymbolBindings.of(symbols)).sumIntermediateBytes; }

    /** Number of plans built so far (one per distinct binding of the symbols). */
    public int cachedPlans() { return plans.size(); }

    /** The optimized graph that the plans execute. */
    public Graph graph() { return graph; }

    public Graph source() { return source; }

    public PassReport passReport() { return report; }

    public CompileOptions options() { return options; }
}
