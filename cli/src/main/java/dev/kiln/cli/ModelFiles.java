package dev.kiln.cli;

import dev.kiln.graph.Graph;
import dev.kiln.onnx.Onnx;
import dev.kiln.serialization.Artifact;
import dev.kiln.serialization.FormatVersion;
import dev.kiln.serialization.KilnReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/** The model files every command accepts: a Kiln artifact ({@code *.kiln.json}) or an ONNX model ({@code *.onnx}), chosen by extension. */
final class ModelFiles {
    private ModelFiles() {}

    static boolean isOnnx(Path p) { return p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx"); }

    static Graph load(Path p) throws IOException { return isOnnx(p) ? Onnx.load(p) : KilnReader.load(p); }

    /** Prints a warning line per finding of {@link dev.kiln.graph.TrainingArtifacts} (train mode, random draws). */
    static void warnIfTraining(Graph g, java.io.PrintWriter err) {
        for (String w : dev.kiln.graph.TrainingArtifacts.of(g)) err.println(dev.kiln.graph.Printable.escape("kiln: warning: " + w));
        err.flush();
    }

    /** As an artifact: an imported ONNX model says so in its producer. */
    static Artifact read(Path p) throws IOException {
        if (!isOnnx(p)) return KilnReader.read(p);
        Graph g = Onnx.load(p);
        String producer = "onnx opset " + g.metadata().getOrDefault("onnx.opset", "?") + " from " + g.metadata().getOrDefault("onnx.producer", "?");
        return new Artifact(g, FormatVersion.CURRENT, FormatVersion.OPSET, producer);
    }
}
