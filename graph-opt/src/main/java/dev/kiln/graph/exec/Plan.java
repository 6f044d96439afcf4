package dev.kiln.graph.exec;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.shape.Shapes;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphException;
import dev.kiln.graph.GraphInput;
import dev.kiln.graph.Guard;
import dev.kiln.graph.NamedTensor;
import dev.kiln.graph.Node;
import dev.kiln.graph.ReferenceInterpreter;
import dev.kiln.graph.SymbolBindings;
import dev.kiln.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * An immutable execution plan of a graph for one binding of its symbolic dims: steps in order,
 * the value table layout, the buffer assignment and its memory figures. Runs borrow an
 * {@link Arena} from the plan's pool, so one plan serves any number of threads.
 */
final class Plan {
    final Graph graph;
    final Map<String, Long> symbols;
    private final SymbolBindings symbolBindings;
    final int valueCount;
    final int[][] shapes;
    final DType[] dtypes;
    final List<PlanStep> steps;
    final MemoryPlan memory;
    final int blockSize;
    final int maxScratch;
    final int maxExternals;
    final long sumIntermediateBytes;
    private final Map<Value, Integer> index;
    /** Value by index, and the indices of the donated parameters (CompileOptions.withDonatedParams). */
    private final Value[] valueAt;
    private final int[] donatedValues;
    /** Per value index: a donated parameter (its buffer may receive the output that replaces it). */
    final boolean[] donated;
    private final int[] outputs;
    private final List<List<Guard>> guardsAfterStep;
    private final List<Guard> guardsBefore;
    private final ConcurrentLinkedQueue<Arena> pool = new ConcurrentLinkedQueue<>();

    Plan(Graph g, List<StepSpec> specs, SymbolBindings sym, CompileOptions opts, Map<Node, List<CompiledGraph>> bodies) {
        graph = g;
        symbols = sym.values();
        symbolBindings = sym;
        blockSize = opts.blockSize();
        index = new HashMap<>();
        List<int[]> shp = new ArrayList<>();
        List<DType> dts = new ArrayList<>();
        for (GraphInput in : g.inputs()) define(Value.input(in.name()), sym.concrete(in.type()), shp, dts);
        for (NamedTensor p : g.params()) define(Value.param(p.name()), p.type(), shp, dts);
        for (NamedTensor c : g.constants()) define(Value.constant(c.name()), c.type(), shp, dts);
        for (Node n : g.nodes()) for (int i = 0; i < n.types().size(); i++) define(n.output(i), sym.concrete(n.types().get(i)), shp, dts);
        valueCount = index.size();
        shapes = shp.toArray(new int[0][]);
        dtypes = dts.toArray(new DType[0]);

        Set<Value> escaping = new HashSet<>(g.outputs());
        boolean[] escapes = new boolean[valueCount];
        for (Value v : escaping) escapes[index.get(v)] = true;
        outputs = g.outputs().stream().mapToInt(index::get).toArray();

        donated = new boolean[valueCount];
        List<Integer> donatedList = new ArrayList<>();
        for (String name : opts.donatedParams()) {
            Integer v = index.get(Value.param(name));
            if (v == null) throw new GraphException(g.name() + ": donated parameter " + name + " is not a parameter of the graph");
            donated[v] = true;
            donatedList.add(v);
        }
        donatedValues = donatedList.stream().mapToInt(Integer::intValue).toArray();
        valueAt = new Value[valueCount];
        for (Map.Entry<Value, Integer> e : index.entrySet()) valueAt[e.getValue()] = e.getKey();
        List<PlanStep> st = new ArrayList<>();
        List<MemoryPlan.StepUse> uses = new ArrayList<>();
        int scratch = 0, ext = 0;
        for (StepSpec s : specs) {
            PlanStep ps = s instanceof StepSpec.Fused f ? new FusedStep(this, f, index)
                    : s instanceof StepSpec.Conv c ? new ConvStep(this, c, index)
                    : s.root().op().def().isControlFlow() ? new ControlStep(this, (StepSpec.Kernel) s, index, bodies.get(s.root()))
                    : new KernelStep(this, (StepSpec.Kernel) s, index);
            st.add(ps);
            uses.add(ps.use());
            if (s instanceof StepSpec.Fused f) {
                scratch = Math.max(scratch, f.program().scratchCount());
                ext = Math.max(ext, f.program().externals().size());
            }
        }
        steps = List.copyOf(st);
        maxScratch = scratch;
        maxExternals = ext;
        memory = new MemoryPlan(valueCount, uses, escapes, donated, opts.planMemory());

        long sum = 0;
        for (Node n : g.nodes()) {
            for (Value o : n.outputs()) {
                if (n.op().def().isView() || escaping.contains(o)) continue;
                sum += bytes(index.get(o));
            }
        }
        sumIntermediateBytes = sum;

        Map<Value, List<Guard>> byValue = new HashMap<>();
        for (Guard gd : g.guards()) byValue.computeIfAbsent(gd.value(), k -> new ArrayList<>()).add(gd);
        guardsBefore = new ArrayList<>(byValue.getOrDefault(null, List.of()));
        for (Value v : index.keySet()) if (v.kind() != Value.Kind.NODE) guardsBefore.addAll(byValue.getOrDefault(v, List.of()));
        guardsAfterStep = new ArrayList<>();
        for (PlanStep ps : steps) {
            List<Guard> after = new ArrayList<>();
            for (Node n : ps.spec.nodes()) for (Value o : n.outputs()) after.addAll(byValue.getOrDefault(o, List.of()));
            guardsAfterStep.add(after);
        }
    }

    private void define(Value v, TensorType concrete, List<int[]> shp, List<DType> dts) {
        index.put(v, index.size());
        shp.add(concrete.concreteShape());
        dts.add(concrete.dtype());
    }


    /**
     * A donated parameter's buffer may be written over during the run, so it must be one the
     * caller handed over: not the graph's own data (not overridden), and not a buffer the run
     * also reads as an input or as another donated parameter. Any other case runs on a copy.
     */
    private void protectUndonatedBuffers(Strided[] env, int inputCount, Map<Value, Strided> overrides) {
        if (donatedValues.length == 0) return;
        java.util.Set<dev.kiln.backend.Storage> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        // every buffer something else still reads: inputs, and parameters and constants that are
        // not donated (tied weights can pass one storage as a donated and an undonated value)
        boolean[] isDonated = new boolean[env.length];
        for (int v : donatedValues) isDonated[v] = true;
        // (only the leading values are defined yet: the nodes' results come later in the table)
        int leading = inputCount + graph.params().size() + graph.constants().size();
        for (int v = 0; v < leading; v++) if (!isDonated[v]) seen.add(env[v].storage());
        for (int v : donatedValues) {
            boolean handedOver = overrides.containsKey(valueAt[v]) && seen.add(env[v].storage());
            if (!handedOver) env[v] = dev.kiln.backend.cpu.Copy.toContiguous(env[v], env[v].dtype());
        }
    }

    long bytes(int value) { return Shapes.numel(shapes[value]) * dtypes[value].itemSize(); }

    /** Peak bytes of intermediates: the arena (slots and scratch) plus kernel-allocated intermediates at their busiest step. */
    long peakBytes() { return memory.arenaBytes() + scratchBytes() + memory.freshPeakBytes; }

    /** The fused loops' scratch blocks: one set per thread of the CPU pool. */
    long scratchBytes() {
        long product = 0;
        for (PlanStep ps : steps) if (ps instanceof FusedStep f) product = Math.max(product, f.productElements());
        return ((long) (maxScratch + maxExternals) * blockSize * dev.kiln.backend.cpu.parallel.Parallel.threads() + product) * 4;
    }

    List<Strided> run(List<Strided> inputs) { return run(inputs, Map.of()); }

    /** As {@link #run(List)}, reading some parameters from {@code overrides} (a training step's state). */
    List<Strided> run(List<Strided> inputs, Map<Value, Strided> overrides) {
        Arena a = pool.poll();
        if (a == null) a = new Arena(this);
        Strided[] env = a.env;
        try {
            for (int i = 0; i < inputs.size(); i++) env[i] = inputs.get(i);
            int k = inputs.size();
            for (NamedTensor p : graph.params()) env[k++] = RunBindings.paramData(graph, p);
            for (NamedTensor c : graph.constants()) env[k++] = c.data();
            for (Map.Entry<Value, Strided> o : overrides.entrySet()) {
                Integer slot = o.getKey().kind() == Value.Kind.PARAM ? index.get(o.getKey()) : null;
                RunBindings.checkOverride(graph, o.getKey(), slot == null ? null : env[slot], o.getValue());
                env[slot] = o.getValue();
            }
            protectUndonatedBuffers(env, inputs.size(), overrides);
            for (Guard gd : guardsBefore) ReferenceInterpreter.checkGuard(graph, gd, gd.value() == null ? null : env[index.get(gd.value())]);
            for (int s = 0; s < steps.size(); s++) {
                PlanStep ps = steps.get(s);
                try {
                    ps.run(env, a);
                } catch (GraphException e) {
                    throw e;
                } catch (RuntimeException e) {
                    throw new GraphException(graph.name() + ": " + ps.describe() + " failed: " + e.getMessage(), e);
                }
                for (Guard gd : guardsAfterStep.get(s)) ReferenceInterpreter.checkGuard(graph, gd, env[index.get(gd.value())]);
            }
            List<Strided> out = new ArrayList<>(outputs.length);
            for (int o : outputs) out.add(env[o]);
            return out;
        } finally {
            Arrays.fill(env, null); // the arena must not keep callers' tensors alive
            pool.offer(a);
        }
    }

    String explain() {
        StringBuilder sb = new StringBuilder();
        long fused = steps.stream().filter(s -> s instanceof FusedStep || s instanceof ConvStep).count();
        sb.append("plan ").append(graph.name()).append(" for ").append(symbols.isEmpty() ? "static shapes" : symbols).append(": ")
                .append(steps.size()).append(" steps (").append(fused).append(" fused), ")
                .append(memory.slotElems.length).append(" arena slots\n");
        long flops = 0;
        for (int s = 0; s < steps.size(); s++) {
            PlanStep ps = steps.get(s);
            int o = ps.out;
            String where = memory.slotOf[o] >= 0 ? "slot " + memory.slotOf[o] + (memory.inPlaceOf[s] >= 0 ? " (in place)" : "")
                    : memory.takesOverBufferOf[o] >= 0 ? "in place over " + valueName(memory.takesOverBufferOf[o])
                    : Arrays.stream(outputs).anyMatch(x -> x == o) ? "output" : ps.isView() ? "view" : "kernel-allocated";
            sb.append(String.format("  #%-3d %-14s %s -> %s%s [%s]%n", s + 1, ps.kind(), ps.nodeList(), dtypes[o].shortName(),
                    Shapes.toString(shapes[o]), where));
            for (Node n : ps.spec.nodes()) {
                long f = symbolBindings.eval(dev.kiln.graph.FlopEstimate.of(n, graph::typeOf));
                flops += f;
                sb.append(String.format("        %%%-3d %-12s flops %-8s %s%n", n.id(), n.op().opName(), Flops.human(f), n.source() == null ? "" : n.source()));
            }
        }
        sb.append("buffers:\n");
        for (int k = 0; k < memory.slotElems.length; k++) {
            StringBuilder vs = new StringBuilder();
            for (int v = 0; v < valueCount; v++) if (memory.slotOf[v] == k) vs.append(' ').append(valueName(v));
            sb.append(String.format("  slot %d: f32 x %d (%s):%s%n", k, memory.slotElems[k], Flops.bytes(memory.slotElems[k] * 4), vs));
        }
        sb.append(String.format("memory: peak %s of intermediates (arena %s, scratch %s, kernel-allocated %s); all intermediates unplanned: %s%n",
                Flops.bytes(peakBytes()), Flops.bytes(memory.arenaBytes()), Flops.bytes(scratchBytes()), Flops.bytes(memory.freshPeakBytes),
                Flops.bytes(sumIntermediateBytes)));
        sb.append("estimated flops: ").append(Flops.human(flops)).append('\n');
        return sb.toString();
    }

    String valueName(int v) {
        for (var e : index.entrySet()) if (e.getValue() == v) return e.getKey().toString();
        return "?";
    }
}
