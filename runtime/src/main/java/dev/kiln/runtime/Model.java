package dev.kiln.runtime;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphInput;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.serialization.Artifact;
import dev.kiln.serialization.KilnReader;
import dev.kiln.serialization.LoadLimits;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A saved model ({@code *.kiln.json}, with its safetensors sidecar if it has one), loaded as
 * untrusted input and compiled for inference: the whole of what a deployment needs. One
 * {@code Model} may run on many threads at once.
 *
 * <pre>{@code
 * Model lenet = Model.load(Path.of("checkpoints/lenet.kiln.json"));
 * Strided images = Tensors.of(pixels, 64, 1, 28, 28);           // float[] in C order
 * float[] logits = Tensors.toFloatArray(lenet.run(images));      // [64, 10]
 * }</pre>
 */
public final class Model {
    private final Artifact artifact;
    private final CompiledGraph compiled;

    private Model(Artifact artifact, OptLevel level) {
        this.artifact = artifact;
        this.compiled = CompiledGraph.compile(artifact.graph(), CompileOptions.of(level));
    }

    /** Loads with the default limits (sized to this JVM's heap) and compiles at O2. */
    public static Model load(Path file) throws IOException { return load(file, LoadLimits.defaults(), OptLevel.O2); }

    /** Loads within {@code limits} and compiles at {@code level}; a malformed file is a {@code KilnFormatException} naming the field. */
    public static Model load(Path file, LoadLimits limits, OptLevel level) throws IOException { return new Model(KilnReader.read(file, limits), level); }

    /** A graph already in memory (traced or imported), compiled at {@code level}. */
    public static Model of(Graph graph, OptLevel level) { return new Model(new Artifact(graph, null, 0, null), level); }

    /** The graph's name. */
    public String name() { return graph().name(); }

    /** The graph as loaded (before compilation). */
    public Graph graph() { return artifact.graph(); }

    /** The file's format version, opset and producer. */
    public Artifact artifact() { return artifact; }

    /** The inputs' names, in the order {@link #run(List)} takes them. */
    public List<String> inputNames() {
        List<String> names = new ArrayList<>();
        for (GraphInput in : graph().inputs()) names.add(in.name());
        return names;
    }

    /** An input's dtype and shape; symbolic dims ({@code N}) bind to each run's sizes. */
    public TensorType inputType(String name) {
        for (GraphInput in : graph().inputs()) if (in.name().equals(name)) return in.type();
        throw new IllegalArgumentException(name() + " has no input named '" + name + "' (its inputs: " + String.join(", ", inputNames()) + ")");
    }

    /** The outputs' names ({@code output0}, ... unless the trace named them), in the order {@link #run(List)} returns them. */
    public List<String> outputNames() { return graph().outputNames(); }

    /**
     * Runs on inputs in {@link #inputNames()}'s order. Wrong dtypes, ranks or sizes are an
     * {@code IllegalArgumentException} or {@code GraphException} naming the input and its type.
     */
    public List<Strided> run(List<Strided> inputs) {
        List<GraphInput> declared = graph().inputs();
        if (inputs.size() != declared.size()) {
            throw new IllegalArgumentException(name() + " takes " + declared.size() + " input(s) (" + String.join(", ", inputNames()) + "), got " + inputs.size());
        }
        for (int i = 0; i < inputs.size(); i++) {
            Strided x = inputs.get(i);
            if (x == null) throw new IllegalArgumentException(name() + ": input '" + declared.get(i).name() + "' is null");
            DType want = declared.get(i).type().dtype();
            if (x.dtype() != want) {
                throw new IllegalArgumentException(name() + ": input '" + declared.get(i).name() + "' must be " + want.shortName() + " (" + declared.get(i).type()
                        + "), got " + x.dtype().shortName());
            }
        }
        return compiled.run(inputs);
    }

    /** Runs on named inputs; returns the outputs by name. */
    public Map<String, Strided> run(Map<String, Strided> inputs) {
        List<Strided> ordered = new ArrayList<>();
        for (String name : inputNames()) {
            Strided x = inputs.get(name);
            if (x == null) throw new IllegalArgumentException(name() + ": missing input '" + name + "' (" + inputType(name) + ")");
            ordered.add(x);
        }
        for (String name : inputs.keySet()) inputType(name); // an unknown name is an error, not ignored
        List<Strided> out = run(ordered);
        Map<String, Strided> named = new LinkedHashMap<>();
        for (int i = 0; i < out.size(); i++) named.put(outputNames().get(i), out.get(i));
        return named;
    }

    /** For a model with one input and one output. */
    public Strided run(Strided input) {
        if (graph().outputs().size() != 1) throw new IllegalArgumentException(name() + " has " + graph().outputs().size() + " outputs; use run(List) or run(Map)");
        return run(List.of(input)).get(0);
    }
}
