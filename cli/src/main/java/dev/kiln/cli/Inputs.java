package dev.kiln.cli;

import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphInput;
import dev.kiln.graph.SymbolBindings;
import dev.kiln.serialization.Npy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Graph inputs from {@code --input NAME=FILE.npy} options, or random ones for benchmarks. */
final class Inputs {
    private Inputs() {}

    /** The inputs in the graph's order; every input must be given exactly once, and no other. */
    static List<Strided> fromFiles(Graph g, Map<String, Path> given) throws IOException {
        Map<String, Path> rest = new LinkedHashMap<>(given);
        List<Strided> out = new ArrayList<>();
        for (GraphInput in : g.inputs()) {
            Path p = rest.remove(in.name());
            if (p == null) throw new CliErrors.UsageException("missing --input " + in.name() + "=FILE.npy (the model's inputs: " + names(g) + ")");
            Strided t = Npy.read(p);
            if (t.dtype() != in.type().dtype()) {
                String hint = t.dtype() == dev.kiln.backend.DType.FLOAT64 && in.type().dtype() == dev.kiln.backend.DType.FLOAT32
                        ? " (numpy's default is float64: save it with np.save(path, x.astype(np.float32)))" : "";
                throw new CliErrors.UsageException("--input " + in.name() + "=" + p + " holds " + t.dtype().shortName() + ", but the model's input %"
                        + in.name() + " is " + in.type() + hint);
            }
            out.add(t);
        }
        if (!rest.isEmpty()) throw new CliErrors.UsageException("the model has no input named " + rest.keySet().iterator().next() + " (its inputs: " + names(g) + ")");
        return out;
    }

    /** Random inputs with every symbolic dim bound to {@code batch}. */
    static List<Strided> random(Graph g, long batch, long seed) {
        Map<String, Long> sym = new LinkedHashMap<>();
        for (GraphInput in : g.inputs()) for (var d : in.type().shape()) for (String s : d.symbols()) sym.put(s, batch);
        SymbolBindings b = SymbolBindings.of(sym);
        Random r = new Random(seed);
        List<Strided> out = new ArrayList<>();
        for (GraphInput in : g.inputs()) {
            Strided t = Strided.allocate(in.type().dtype(), b.concreteShape(in.type()));
            Storage s = t.storage();
            for (int i = 0; i < s.length(); i++) {
                switch (in.type().dtype()) {
                    case FLOAT32 -> s.f32()[i] = (float) r.nextGaussian();
                    case FLOAT64 -> s.f64()[i] = r.nextGaussian();
                    case INT64 -> s.i64()[i] = r.nextInt(2);
                    case BOOL -> s.bool()[i] = r.nextBoolean();
                }
            }
            out.add(t);
        }
        return out;
    }

    static String names(Graph g) { return String.join(", ", g.inputs().stream().map(GraphInput::name).toList()); }
}
