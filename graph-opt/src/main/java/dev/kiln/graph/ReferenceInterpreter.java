package dev.kiln.graph;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.backend.cpu.CpuKernels;
import dev.kiln.backend.shape.TensorType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a graph node by node with the plain CPU kernels: the oracle that optimized and
 * compiled execution is compared with. Errors name the node and its Java source line.
 */
public final class ReferenceInterpreter {
    private ReferenceInterpreter() {}

    public static List<Strided> run(Graph g, List<Strided> inputs) { return run(g, inputs, Map.of()); }

    /**
     * Runs with some parameters or constants replaced by other data of the same type (a
     * traced training step feeds its updated state back this way).
     */
    public static List<Strided> run(Graph g, List<Strided> inputs, Map<Value, Strided> overrides) {
        SymbolBindings sym = SymbolBindings.bind(g, inputs);
        Map<Value, Strided> env = new HashMap<>();
        for (int i = 0; i < inputs.size(); i++) env.put(Value.input(g.inputs().get(i).name()), inputs.get(i));
        for (NamedTensor p : g.params()) {
            if (p.data() == null) throw new GraphException(g.name() + ": parameter " + p.name() + " has no data");
            env.put(Value.param(p.name()), p.data());
        }
        for (NamedTensor c : g.constants()) env.put(Value.constant(c.name()), c.data());
        overrides.forEach((v, data) -> {
            TensorType t = g.typeOf(v);
            if (t == null || (v.kind() != Value.Kind.PARAM && v.kind() != Value.Kind.CONST)) {
                throw new GraphException(g.name() + ": override for " + v + ", which is not a parameter or constant of the graph");
            }
            if (data.dtype() != t.dtype() || !Arrays.equals(data.shape(), t.concreteShape())) {
                throw new GraphException(g.name() + ": override for " + v + " must be " + t + ", got " + data.dtype().shortName() + Arrays.toString(data.shape()));
            }
            env.put(v, data);
        });
        Map<Value, List<Guard>> guards = new HashMap<>();
        for (Guard gd : g.guards()) guards.computeIfAbsent(gd.value(), k -> new ArrayList<>()).add(gd);
        for (Guard gd : guards.getOrDefault(null, List.of())) checkGuard(g, gd, null);
        for (Value v : env.keySet().toArray(new Value[0])) {
            for (Guard gd : guards.getOrDefault(v, List.of())) checkGuard(g, gd, env.get(v));
        }
        for (Node n : g.nodes()) {
            Strided[] in = new Strided[n.inputs().size()];
            for (int i = 0; i < in.length; i++) in[i] = env.get(n.inputs().get(i));
            Strided[] out;
            TensorType[] t = new TensorType[n.types().size()];
            for (int i = 0; i < t.length; i++) t[i] = sym.concrete(n.types().get(i));
            try {
                out = n.op().def().isControlFlow()
                        ? ControlFlowSemantics.run(n, in, t, (b, ins) -> run(n.bodies().get(b), ins))
                        : new Strided[] {CpuKernels.run(n.op(), in, n.attrs(), t[0])};
            } catch (GraphException e) {
                throw new GraphException(g.name() + ": " + n.describe() + ": " + e.getMessage(), e);
            } catch (RuntimeException e) {
                throw new GraphException(g.name() + ": " + n.describe() + " failed: " + e.getMessage(), e);
            }
            for (int i = 0; i < t.length; i++) {
                if (!Arrays.equals(out[i].shape(), t[i].concreteShape()) || out[i].dtype() != t[i].dtype()) {
                    throw new GraphException(g.name() + ": " + n.describe() + " produced " + out[i].dtype().shortName() + Arrays.toString(out[i].shape())
                            + " but its type is " + n.types().get(i) + " = " + t[i]);
                }
                env.put(n.output(i), out[i]);
                for (Guard gd : guards.getOrDefault(n.output(i), List.of())) checkGuard(g, gd, out[i]);
            }
        }
        List<Strided> outs = new ArrayList<>();
        for (Value v : g.outputs()) outs.add(env.get(v));
        return outs;
    }

    /** Fails when a guarded value differs from what the trace saw. */
    public static void checkGuard(Graph g, Guard gd, Strided value) {
        if (value == null) return;
        double[] actual = Copy.toContiguous(value, DType.FLOAT64).storage().f64();
        if (!Arrays.equals(actual, gd.expected())) {
            throw new GraphException(g.name() + ": guard failed: the trace assumed " + gd.description()
                    + (gd.source() != null ? " (at " + gd.source() + ")" : "") + ", but this run has "
                    + (actual.length <= 8 ? Arrays.toString(actual) : actual.length + " different values")
                    + "; retrace for these inputs");
        }
    }
}
