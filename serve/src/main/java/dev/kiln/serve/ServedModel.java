package dev.kiln.serve;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphInput;
import dev.kiln.graph.NamedTensor;
import dev.kiln.graph.SymbolBindings;
import dev.kiln.graph.Value;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.serialization.Artifact;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A loaded artifact compiled once at O2, with what the endpoints need: input dtypes, output
 * names, and the batch symbol when requests may be batched together.
 *
 * <p>A model is batchable when every input and output has the same plain symbol (say N) as dim 0
 * and nowhere else. That is necessary but not sufficient: a graph could still mix rows (a sum
 * over dim 0), and a kernel could round differently at another batch size. So batching is also
 * probed once at load: a 3-row run must equal, bit for bit, the 1-row and 2-row runs of its parts.
 */
final class ServedModel {
    final Artifact artifact;
    final Graph graph;
    final CompiledGraph compiled;
    final Map<String, DType> inputDtypes = new LinkedHashMap<>();
    final List<String> outputNames;
    /** The batch symbol, or null when requests run one by one. */
    final String batchSymbol;
    /** Why batching is off (null when it is on). */
    final String unbatchableReason;
    final long parameterValues;

    ServedModel(Artifact artifact) {
        this.artifact = artifact;
        this.graph = artifact.graph();
        this.compiled = CompiledGraph.compile(graph, CompileOptions.of(OptLevel.O2));
        for (GraphInput in : graph.inputs()) inputDtypes.put(in.name(), in.type().dtype());
        this.outputNames = graph.outputNames(); // output0, ... for new artifacts; node ids for those before format 1.2
        long params = 0;
        for (NamedTensor p : graph.params()) params += p.data().numel();
        this.parameterValues = params;
        String sym = batchSymbolOf(graph);
        String reason = sym == null ? "dim 0 of every input and output is not one shared symbol used nowhere else" : probe(sym);
        this.batchSymbol = reason == null ? sym : null;
        this.unbatchableReason = reason;
    }

    List<Strided> run(List<Strided> inputs) { return compiled.run(inputs); }

    private static String batchSymbolOf(Graph g) {
        String sym = null;
        List<TensorType> types = new ArrayList<>();
        for (GraphInput in : g.inputs()) types.add(in.type());
        for (Value v : g.outputs()) types.add(g.typeOf(v));
        for (TensorType t : types) {
            if (t.rank() == 0) return null;
            Dim d0 = t.dim(0);
            if (d0.isConstant() || d0.coefficient() != 1 || d0.symbols().size() != 1) return null;
            if (sym == null) sym = d0.symbols().get(0);
            else if (!sym.equals(d0.symbols().get(0))) return null;
        }
        for (TensorType t : types) {
            for (int i = 1; i < t.rank(); i++) if (t.dim(i).symbols().contains(sym)) return null;
        }
        return sym;
    }

    /** Null when a 3-row batch splits into exactly the 1-row and 2-row results; else the reason. */
    private String probe(String sym) {
        Map<String, Long> values = new LinkedHashMap<>();
        for (GraphInput in : graph.inputs()) for (Dim d : in.type().shape()) for (String s : d.symbols()) values.put(s, 2L);
        values.put(sym, 3L);
        SymbolBindings b = SymbolBindings.of(values);
        Random r = new Random(7);
        List<Strided> batch = new ArrayList<>();
        for (GraphInput in : graph.inputs()) batch.add(random(in.type().dtype(), b.concreteShape(in.type()), r));
        try {
            List<Strided> whole = run(batch);
            List<Strided> first = run(batch.stream().map(x -> Rows.slice(x, 0, 1)).toList());
            List<Strided> rest = run(batch.stream().map(x -> Rows.slice(x, 1, 3)).toList());
            for (int i = 0; i < whole.size(); i++) {
                if (!sameBits(Rows.slice(whole.get(i), 0, 1), first.get(i)) || !sameBits(Rows.slice(whole.get(i), 1, 3), rest.get(i))) {
                    return "output " + outputNames.get(i) + " of a batch differs from the outputs of its rows run alone";
                }
            }
            return null;
        } catch (RuntimeException e) {
            // Random inputs can trip guards (an index out of range, say): then batching cannot be vouched for.
            return "the batching probe on random inputs failed: " + e.getMessage();
        }
    }

    private static Strided random(DType dtype, int[] shape, Random r) {
        Strided t = Strided.allocate(dtype, shape);
        for (int i = 0; i < t.storage().length(); i++) {
            switch (dtype) {
                case FLOAT32 -> t.storage().f32()[i] = (float) r.nextGaussian();
                case FLOAT64 -> t.storage().f64()[i] = r.nextGaussian();
                case INT64 -> t.storage().i64()[i] = r.nextInt(2);
                case BOOL -> t.storage().bool()[i] = r.nextBoolean();
            }
        }
        return t;
    }

    static boolean sameBits(Strided a, Strided b) {
        if (a.dtype() != b.dtype() || !Arrays.equals(a.shape(), b.shape())) return false;
        Strided x = Copy.contiguousOf(a, a.dtype()), y = Copy.contiguousOf(b, b.dtype());
        return switch (a.dtype()) {
            case FLOAT32 -> Arrays.equals(floatBits(x.storage().f32()), floatBits(y.storage().f32()));
            case FLOAT64 -> Arrays.equals(doubleBits(x.storage().f64()), doubleBits(y.storage().f64()));
            case INT64 -> Arrays.equals(x.storage().i64(), y.storage().i64());
            case BOOL -> Arrays.equals(x.storage().bool(), y.storage().bool());
        };
    }

    private static int[] floatBits(float[] a) {
        int[] o = new int[a.length];
        for (int i = 0; i < a.length; i++) o[i] = Float.floatToRawIntBits(a[i]);
        return o;
    }

    private static long[] doubleBits(double[] a) {
        long[] o = new long[a.length];
        for (int i = 0; i < a.length; i++) o[i] = Double.doubleToRawLongBits(a[i]);
        return o;
    }
}
