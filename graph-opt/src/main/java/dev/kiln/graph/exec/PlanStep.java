package dev.kiln.graph.exec;

import dev.kiln.backend.Strided;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** One step of a concrete plan: reads values from the run's table and defines one. */
abstract sealed class PlanStep permits KernelStep, FusedStep, ControlStep, ConvStep {
    final StepSpec spec;
    final int out;
    /** Value indices read from outside the step. */
    final int[] reads;

    PlanStep(StepSpec spec, Map<Value, Integer> index) {
        this.spec = spec;
        this.out = index.get(spec.root().output());
        Set<Value> inner = new LinkedHashSet<>();
        for (Node n : spec.nodes()) inner.addAll(n.outputs());
        Set<Integer> r = new LinkedHashSet<>();
        for (Node n : spec.nodes()) for (Value v : n.inputs()) if (!inner.contains(v)) r.add(index.get(v));
        this.reads = r.stream().mapToInt(Integer::intValue).toArray();
    }

    abstract void run(Strided[] env, Arena arena);

    abstract String kind();

    abstract MemoryPlan.StepUse use();

    boolean isView() { return false; }

    String nodeList() { return spec.nodes().stream().map(n -> "%" + n.id() + " " + n.op().opName()).collect(Collectors.joining(", ")); }

    /** How a failure names the step: its nodes with their Java source lines. */
    String describe() { return spec.nodes().stream().map(Node::describe).collect(Collectors.joining(" + ")); }
}
