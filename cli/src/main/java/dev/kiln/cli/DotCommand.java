package dev.kiln.cli;

import dev.kiln.graph.Graph;
import dev.kiln.serialization.KilnReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code kiln dot MODEL [-o FILE]}: Graphviz DOT, or SVG rendered by the {@code dot} binary. */
@Command(name = "dot", mixinStandardHelpOptions = true, versionProvider = KilnCli.Version.class,
        description = "Print the graph as Graphviz DOT; with -o FILE.svg (or .png, .pdf), render it with the 'dot' binary.")
final class DotCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "a *.kiln.json artifact or an *.onnx model")
    Path model;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "write to FILE instead of stdout: .dot or .gv as text; .svg, .png or .pdf rendered")
    Path output;

    /** The Graphviz executable; a field so tests can point it at a missing binary. */
    String dotBinary = "dot";

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Graph g = ModelFiles.load(model);
        String dot = g.toDot();
        if (output == null) {
            spec.commandLine().getOut().print(dot);
        } else {
            String name = output.getFileName().toString(), ext = name.contains(".") ? name.substring(name.lastIndexOf('.') + 1) : "";
            switch (ext) {
                case "dot", "gv" -> Files.writeString(output, dot);
                case "svg", "png", "pdf" -> Files.write(output, render(dot, ext));
                // DOT text in a .png would be a file no viewer opens: say so instead of writing it
                default -> throw new CliErrors.UsageException("-o " + output + ": unknown extension '" + ext + "'; use .dot or .gv for DOT text,"
                        + " .svg, .png or .pdf to render with Graphviz");
            }
            spec.commandLine().getOut().println("wrote " + output);
        }
        return 0;
    }

    private byte[] render(String dot, String format) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(dotBinary, "-T" + format).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            throw new CliErrors.UsageException(format.toUpperCase(java.util.Locale.ROOT) + " output needs the Graphviz 'dot' binary, which is not"
                    + " installed (apt-get install graphviz); write a .dot file instead");
        }
        try (var in = p.getOutputStream()) {
            in.write(dot.getBytes(StandardCharsets.UTF_8));
        }
        byte[] svg = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new CliErrors.UsageException("'dot -T" + format + "' failed on this graph");
        return svg;
    }
}
