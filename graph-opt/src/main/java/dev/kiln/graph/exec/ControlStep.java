package dev.kiln.graph.exec;

import dev.kiln.backend.Strided;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.ControlFlowSemantics;
import dev.kiln.graph.GraphException;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A control-flow node ({@code cond}, {@code while_loop}, {@code scan}): its bodies were compiled
 * once with the graph, and each step or branch runs one of their cached plans, so nothing is
 * planned per iteration. Its outputs are buffers of their own: a body's outputs are never arena
 * slots of its plan, and an output that is an input's buffer (or another output's) is copied.
 */
final class ControlStep extends PlanStep {
    private final Node node;
    private final int[] inputs;
    private final int[] outs;
    private final TensorType[] types;
    private final List<CompiledGraph> bodies;
    private final Plan plan;
    /** The storages of the bodies' constants and parameters: an output that is one of them is copied too. */
    private final java.util.Set<dev.kiln.backend.Storage> bodyData = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

    ControlStep(Plan plan, StepSpec.Kernel spec, Map<Value, Integer> index, List<CompiledGraph> bodies) {
        super(spec, index);
        this.plan = plan;
        this.node = spec.root();
        this.bodies = bodies;
        this.inputs = node.inputs().stream().mapToInt(index::get).toArray();
        this.outs = node.outputs().stream().mapToInt(index::get).toArray();
        for (CompiledGraph body : bodies) {
            for (dev.kiln.graph.NamedTensor c : body.graph().constants()) if (c.data() != null) bodyData.add(c.data().storage());
            for (dev.kiln.graph.NamedTensor p : body.graph().params()) if (p.data() != null) bodyData.add(p.data().storage());
        }
        this.types = new TensorType[outs.length];
        for (int i = 0; i < outs.length; i++) types[i] = TensorType.of(plan.dtypes[outs[i]], plan.shapes[outs[i]]);
    }

    @Override
    void run(Strided[] env, Arena arena) {
        Strided[] in = new Strided[inputs.length];
        for (int i = 0; i < in.length; i++) in[i] = env[inputs[i]];
        Strided[] r;
        try {
            r = ControlFlowSemantics.run(node, in, types, (b, ins) -> bodies.get(b).run(ins));
        } catch (GraphException e) {
            // a body's failure (a guard of the body, a kernel) names the node that runs the body
            throw new GraphException(plan.graph.name() + ": " + node.describe() + ": " + e.getMessage(), e);
        }
        // a body may hand back one of its inputs (a carry passed through, a branch returning its
        // operand, a loop that ran zero times) or the same buffer twice: such an output gets its
        // own copy, since the plan may write over an input's buffer (or reuse its arena slot)
        // once the input's last reader, this step, is done. The same holds for a body's constants
        // (a branch returning one). So every output is a buffer of its own, like a kernel's
        // result, and the memory plan treats it as one.
        java.util.Set<dev.kiln.backend.Storage> taken = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        taken.addAll(bodyData);
        for (Strided x : in) taken.add(x.storage());
        for (int i = 0; i < r.length; i++) {
            if (!taken.add(r[i].storage())) r[i] = dev.kiln.backend.cpu.Copy.toContiguous(r[i], r[i].dtype());
        }
        for (int i = 0; i < outs.length; i++) {
            if (!Arrays.equals(r[i].shape(), plan.shapes[outs[i]]) || r[i].dtype() != types[i].dtype()) {
                throw new GraphException(plan.graph.name() + ": " + node.describe() + " produced " + r[i].dtype().shortName()
                        + Arrays.toString(r[i].shape()) + " for output " + i + " but its type is " + node.types().get(i) + " = " + types[i]);
            }
            env[outs[i]] = r[i];
        }
    }

    @Override
    String kind() { return "control"; }

    @Override
    MemoryPlan.StepUse use() {
        long bytes = 0;
        for (int o : outs) bytes += plan.bytes(o);
        return new MemoryPlan.StepUse(out, inputs, false, false, new int[0], bytes);
    }
}
