package dev.kiln.cli;

import dev.kiln.graph.Assumption;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphInput;
import dev.kiln.graph.Guard;
import dev.kiln.graph.NamedTensor;
import dev.kiln.graph.Node;
import dev.kiln.graph.Printable;
import dev.kiln.graph.Value;
import dev.kiln.serialization.Artifact;
import dev.kiln.serialization.KilnReader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code kiln inspect MODEL}: what a model takes, returns, holds and costs. */
@Command(name = "inspect", mixinStandardHelpOptions = true, versionProvider = KilnCli.Version.class, description = "Summarize a model: inputs, outputs, ops, parameters, FLOPs, guards.")
final class InspectCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "a *.kiln.json artifact, an *.onnx model, or PyTorch weights (*.pt, *.pth, *.bin: torch.save's zip format, recognized by its content)")
    Path model;

    @Option(names = "--graph", description = "also print the graph's text form")
    boolean graph;

    @Spec
    CommandSpec spec;

    /** torch.save writes a zip archive; Kiln artifacts are JSON. Sniffed, whatever the extension. */
    private static boolean isZipArchive(Path p) throws java.io.IOException {
        try (var in = java.nio.file.Files.newInputStream(p)) {
            byte[] head = in.readNBytes(4);
            return head.length == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
        } catch (java.nio.file.NoSuchFileException e) {
            return false; // the JSON reader reports the missing file
        }
    }

    @Override
    public Integer call() throws Exception {
        if (isZipArchive(model)) return TorchFileSummary.print(model, spec.commandLine().getOut()); // .pt, .pth, pytorch_model.bin
        Artifact a = ModelFiles.read(model);
        Graph g = a.graph();
        PrintWriter out = spec.commandLine().getOut();
        out.println(Printable.escape("model:       " + g.name()));
        out.println(Printable.escape("format:      kiln-graph " + a.version() + ", opset " + a.opset() + ", producer " + a.producer()));
        out.println("inputs:");
        for (GraphInput in : g.inputs()) out.println(Printable.escape("  %" + in.name() + ": " + in.type()));
        out.println("outputs:");
        for (int i = 0; i < g.outputs().size(); i++) {
            Value v = g.outputs().get(i);
            out.println(Printable.escape("  " + g.outputNames().get(i) + " = " + v + ": " + g.typeOf(v)));
        }
        long count = 0, bytes = 0;
        for (NamedTensor p : g.params()) {
            long n = p.data().numel();
            count += n;
            bytes += n * p.type().dtype().itemSize();
        }
        out.println("parameters:  " + g.params().size() + " tensors, " + count + " values, " + bytes + " bytes");
        out.println("constants:   " + g.constants().size());
        out.println("FLOPs:       " + Flops.estimate(g) + " (matmul, addmm, conv2d; per run)");
        Map<String, Integer> hist = new TreeMap<>();
        for (Node n : g.nodes()) hist.merge(n.op().opName(), 1, Integer::sum);
        out.println("ops:         " + g.nodes().size() + " nodes");
        hist.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .forEach(e -> out.printf("  %-16s %d%n", e.getKey(), e.getValue()));
        for (String w : dev.kiln.graph.TrainingArtifacts.of(g)) out.println(Printable.escape("warning:     " + w));
        out.println("guards:      " + (g.guards().isEmpty() ? "none" : g.guards().size()));
        for (Guard gd : g.guards()) out.println(Printable.escape("  " + gd.kind() + ": " + gd.description() + (gd.source() != null ? "   # " + gd.source() : "")));
        if (!g.assumptions().isEmpty()) {
            out.println("assumptions:");
            for (Assumption as : g.assumptions()) out.println(Printable.escape("  " + as));
        }
        if (!g.metadata().isEmpty()) {
            out.println("metadata:");
            g.metadata().forEach((k, v) -> out.println(Printable.escape("  " + k + " = " + v)));
        }
        if (graph) {
            out.println();
            out.print(g);
        }
        return 0;
    }
}
