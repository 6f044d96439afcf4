package dev.kiln.graph.exec;

import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.DirectConv;
import dev.kiln.backend.cpu.vector.FloatRows;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.GraphException;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A direct convolution finished in cache by its epilogue (StepSpec.Conv): each sample's planes
 * get the activations and, when the step ends in one, the 2x2 max pool before they are written,
 * so only the step's last value is ever stored. The same bits as the nodes run one by one.
 */
final class ConvStep extends PlanStep {
    private final Plan plan;
    private final Node conv;
    private final int[] inputs;
    private final List<FloatRows.Unary> activations;
    private final boolean pool;
    private final TensorType type;

    ConvStep(Plan plan, StepSpec.Conv spec, Map<Value, Integer> index) {
        super(spec, index);
        this.plan = plan;
        this.conv = spec.conv();
        this.inputs = conv.inputs().stream().mapToInt(index::get).toArray();
        this.activations = spec.activations().stream().map(n -> n.op().def().elementwise().unaryRows(n.attrs())).toList();
        this.pool = spec.pool() != null;
        this.type = TensorType.of(plan.dtypes[out], plan.shapes[out]);
    }

    @Override
    void run(Strided[] env, Arena arena) {
        Strided[] in = new Strided[inputs.length];
        for (int i = 0; i < in.length; i++) in[i] = env[inputs[i]];
        Strided r = DirectConv.run(in, conv.attrs(), activations, pool, type);
        if (!Arrays.equals(r.shape(), plan.shapes[out])) {
            throw new GraphException(plan.graph.name() + ": " + describe() + " produced " + Arrays.toString(r.shape()) + " but its type is " + type);
        }
        env[out] = r;
    }

    @Override
    String kind() { return !pool ? "conv+epilogue" : activations.isEmpty() ? "conv+pool" : "conv+act+pool"; }

    @Override
    MemoryPlan.StepUse use() { return new MemoryPlan.StepUse(out, inputs, false, false, new int[0], plan.bytes(out)); }
}
