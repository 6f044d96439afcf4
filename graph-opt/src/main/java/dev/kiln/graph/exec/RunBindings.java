package dev.kiln.graph.exec;

import dev.kiln.backend.Strided;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphException;
import dev.kiln.graph.NamedTensor;
import dev.kiln.graph.Value;
import java.util.Arrays;

/** The checks on what a run reads besides its inputs, shared by the CPU {@link Plan} and the {@link DevicePlan}. */
final class RunBindings {
    private RunBindings() {}

    /** A parameter's data; a graph loaded without its weights fails here, naming the parameter. */
    static Strided paramData(Graph g, NamedTensor p) {
        if (p.data() == null) throw new GraphException(g.name() + ": parameter " + p.name() + " has no data");
        return p.data();
    }

    /**
     * An override (a training step's state fed back) must replace a parameter, {@code replaced}
     * (null: key is not one), with data of the same dtype and shape.
     */
    static void checkOverride(Graph g, Value key, Strided replaced, Strided given) {
        if (replaced == null) throw new GraphException(g.name() + ": override for " + key + ", which is not a parameter of the graph");
        if (!Arrays.equals(given.shape(), replaced.shape()) || given.dtype() != replaced.dtype()) {
            throw new GraphException(g.name() + ": override for " + key + " must be " + replaced.dtype().shortName()
                    + Arrays.toString(replaced.shape()) + ", got " + given.dtype().shortName() + Arrays.toString(given.shape()));
        }
    }
}
