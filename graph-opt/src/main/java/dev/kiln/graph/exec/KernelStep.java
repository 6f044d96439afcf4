package dev.kiln.graph.exec;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.CpuKernels;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.GraphException;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.Arrays;
import java.util.Map;

/**
 * A plain CPU kernel call for one node; the kernel allocates its result (or returns a view),
 * except that a float32 op with a write-into kernel (matmul, elementwise ops, cat, softmax and
 * softmax_backward, layer_norm and its x gradient; {@link CpuKernels#runInto}) writes into the
 * arena slot the plan gave it: attention's batched
 * [B, H, T, T] products are 2-8 MiB each, and a fresh array is zeroed by the JVM and, at that
 * size, allocated by G1 as a humongous object, on every run.
 */
final class KernelStep extends PlanStep {
    private final Node node;
    private final int[] inputs;
    private final TensorType type;
    private final Plan plan;
    private final boolean intoSlot;

    KernelStep(Plan plan, StepSpec.Kernel spec, Map<Value, Integer> index) {
        super(spec, index);
        this.plan = plan;
        this.node = spec.root();
        this.inputs = node.inputs().stream().mapToInt(index::get).toArray();
        this.type = TensorType.of(plan.dtypes[out], plan.shapes[out]);
        this.intoSlot = type.dtype() == DType.FLOAT32 && !node.op().def().isView() && CpuKernels.hasInto(node.op(), node.attrs(), type);
    }

    @Override
    void run(Strided[] env, Arena arena) {
        Strided[] in = new Strided[inputs.length];
        for (int i = 0; i < in.length; i++) in[i] = env[inputs[i]];
        Strided r = intoSlot && plan.memory.slotOf[out] >= 0
                ? CpuKernels.runPreferring(node.op(), in, node.attrs(), type, arena.slotViews[out])
                : CpuKernels.run(node.op(), in, node.attrs(), type);
        if (!Arrays.equals(r.shape(), plan.shapes[out]) || r.dtype() != type.dtype()) {
            throw new GraphException(plan.graph.name() + ": " + node.describe() + " produced " + r.dtype().shortName()
                    + Arrays.toString(r.shape()) + " but its type is " + node.type() + " = " + type);
        }
        env[out] = r;
    }

    @Override
    String kind() { return "kernel"; }

    @Override
    boolean isView() { return node.op().def().isView(); }

    @Override
    MemoryPlan.StepUse use() {
        long bytes = isView() ? 0 : plan.bytes(out);
        return new MemoryPlan.StepUse(out, inputs, isView(), intoSlot, new int[0], bytes);
    }
}
