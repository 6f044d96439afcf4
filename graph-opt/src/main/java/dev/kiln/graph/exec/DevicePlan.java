package dev.kiln.graph.exec;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.CpuKernels;
import dev.kiln.backend.device.CpuFallback;
import dev.kiln.backend.device.DeviceExecutor;
import dev.kiln.backend.device.ElementwiseChain;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A compiled graph's steps run on a device ({@link CompileOptions#withDevice}): the same fusion
 * groups as the CPU plan, each fused elementwise group one {@link DeviceExecutor#runFused} call,
 * a GEMM that the CPU plan finishes in place one {@link DeviceExecutor#run} followed by its
 * group, every other node one {@code run} (on the CPU where the device lacks the kernel, as in
 * eager: {@link CpuFallback}), and view ops rewritten on the host as in eager. It
 * does not depend on symbol values (device memory comes from the executor's allocator), so one
 * instance serves every batch size and thread. Guards are checked where the CPU plan checks them.
 */
final class DevicePlan {
    /** One step: a node run alone ({@code chain == null}), or a fused group with its optional GEMM. */
    private record Step(List<Node> nodes, Node single, Node gemm, Node gemmView, ElementwiseChain chain, List<Value> externals, Value out) {
        String describe() { return nodes.stream().map(Node::describe).collect(Collectors.joining(" + ")); }
    }

    private final Graph graph;
    private final DeviceExecutor device;
    private final List<Step> steps;
    private final List<Guard> guardsBefore = new ArrayList<>();
    private final Map<Value, List<Guard>> guardsOf = new HashMap<>();

    DevicePlan(Graph g, List<StepSpec> specs, DeviceExecutor device) {
        this.graph = g;
        this.device = device;
        List<Step> st = new ArrayList<>();
        for (StepSpec s : specs) {
            if (s.root().op().def().isControlFlow()) {
                throw new dev.kiln.graph.GraphException(g.name() + ": " + s.root().describe() + ": control flow runs in the CPU plan only;"
                        + " compile this graph without a device (CompileOptions.withDevice)");
            }
            if (s instanceof StepSpec.Fused f) {
                st.add(fused(f));
            } else {
                // one node per kernel step (FusionPlanner makes conv epilogues for CPU plans only)
                for (Node n : s.nodes()) st.add(new Step(List.of(n), n, null, null, null, List.of(), n.output()));
            }
        }
        steps = List.copyOf(st);
        for (Guard gd : g.guards()) {
            if (gd.value() == null || gd.value().kind() != Value.Kind.NODE) guardsBefore.add(gd);
            else guardsOf.computeIfAbsent(gd.value(), k -> new ArrayList<>()).add(gd);
        }
    }

    /** The group's chain (the CPU plan's own encoding) over the values it reads from outside, the GEMM's result among them. */
    private Step fused(StepSpec.Fused f) {
        if (f.elementwise().isEmpty()) return new Step(f.nodes(), f.gemm(), null, null, null, List.of(), f.gemm().output());
        return new Step(f.nodes(), null, f.gemm(), f.gemmView(), f.program().chain(), f.program().externals(), f.root().output());
    }

    List<Strided> run(List<Strided> inputs, Map<Value, Strided> overrides, SymbolBindings sym) {
        Map<Value, Strided> env = new HashMap<>();
        List<GraphInput> in = graph.inputs();
        for (int i = 0; i < in.size(); i++) env.put(Value.input(in.get(i).name()), inputs.get(i));
        for (NamedTensor p : graph.params()) env.put(Value.param(p.name()), RunBindings.paramData(graph, p));
        for (NamedTensor c : graph.constants()) env.put(Value.constant(c.name()), c.data());
        for (Map.Entry<Value, Strided> o : overrides.entrySet()) {
            RunBindings.checkOverride(graph, o.getKey(), o.getKey().kind() == Value.Kind.PARAM ? env.get(o.getKey()) : null, o.getValue());
            env.put(o.getKey(), o.getValue());
        }
        for (Guard gd : guardsBefore) ReferenceInterpreter.checkGuard(graph, gd, gd.value() == null ? null : env.get(gd.value()));
        for (Step s : steps) {
            try {
                if (s.chain() == null) {
                    env.put(s.out(), node(s.single(), env, sym));
                } else {
                    if (s.gemm() != null) env.put(s.gemm().output(), node(s.gemm(), env, sym));
                    if (s.gemmView() != null) env.put(s.gemmView().output(), node(s.gemmView(), env, sym));
                    Strided[] ext = new Strided[s.externals().size()];
                    for (int k = 0; k < ext.length; k++) ext[k] = env.get(s.externals().get(k));
                    env.put(s.out(), device.runFused(s.chain(), ext, sym.concrete(graph.typeOf(s.out())).concreteShape()));
                }
            } catch (GraphException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new GraphException(graph.name() + ": " + s.describe() + " failed on " + device.deviceName() + ": " + e.getMessage(), e);
            }
            for (Node n : s.nodes()) {
                for (Guard gd : guardsOf.getOrDefault(n.output(), List.of())) ReferenceInterpreter.checkGuard(graph, gd, env.get(n.output()));
            }
        }
        List<Strided> out = new ArrayList<>();
        for (Value v : graph.outputs()) out.add(env.get(v));
        return out;
    }

    private Strided node(Node n, Map<Value, Strided> env, SymbolBindings sym) {
        Strided[] in = new Strided[n.inputs().size()];
        for (int j = 0; j < in.length; j++) in[j] = env.get(n.inputs().get(j));
        var type = sym.concrete(n.type());
        // view ops only rewrite (shape, strides, offset): the same code on every device, as in eager
        return n.op().def().isView() ? CpuKernels.run(n.op(), in, n.attrs(), type) : CpuFallback.run(device, n.op(), in, n.attrs(), type);
    }

    String explain() {
        long fused = steps.stream().filter(s -> s.chain() != null).count();
        StringBuilder sb = new StringBuilder("plan " + graph.name() + " on " + device.deviceName() + ": " + steps.size() + " steps (" + fused
                + " fused)\n");
        for (int i = 0; i < steps.size(); i++) {
            Step s = steps.get(i);
            String kind = s.chain() == null ? "kernel" : s.gemm() != null ? "gemm+fused" : "fused";
            DType t = graph.typeOf(s.out()).dtype();
            sb.append(String.format("  #%-3d %-11s %s -> %s%n", i + 1, kind,
                    s.nodes().stream().map(n -> "%" + n.id() + " " + n.op().opName()).collect(Collectors.joining(", ")), t.shortName()));
        }
        return sb.toString();
    }
}
