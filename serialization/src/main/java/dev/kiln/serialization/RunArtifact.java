package dev.kiln.serialization;

import dev.kiln.backend.Strided;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ReferenceInterpreter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The smallest deployment: {@code RunArtifact MODEL.kiln.json OUT.npy IN.npy...} loads an
 * artifact, runs it on .npy inputs (in the graph's input order) and writes the first output.
 * It needs only kiln-backends, kiln-graph-opt, kiln-serialization and Jackson on the class
 * path, which a test in kiln-tests checks by launching it in a bare JVM.
 */
public final class RunArtifact {
    private RunArtifact() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: RunArtifact MODEL.kiln.json OUT.npy [IN.npy ...]");
            System.exit(2);
        }
        Graph g = KilnReader.load(Path.of(args[0]));
        List<Strided> inputs = new ArrayList<>();
        for (int i = 2; i < args.length; i++) inputs.add(Npy.read(Path.of(args[i])));
        List<Strided> outs = ReferenceInterpreter.run(g, inputs);
        Npy.write(Path.of(args[1]), outs.get(0));
    }
}
