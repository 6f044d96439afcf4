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
@Command(name = "dot", description = "Print the graph as Graphviz DOT; with -o FILE.svg, render SVG with the 'dot' binary.")
final class DotCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "a *.kiln.json artifact")
    Path model;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "write to FILE (.dot, or .svg to render) instead of stdout")
    Path output;

    /** The Graphviz executable; a field so tests can point it at a missing binary. */
    String dotBinary = "dot";

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Graph g = KilnReader.load(model);
        String dot = g.toDot();
        if (output == null) {
            spec.commandLine().getOut().print(dot);
        } else if (output.getFileName().toString().endsWith(".svg")) {
            Files.write(output, render(dot));
            spec.commandLine().getOut().println("wrote " + output);
        } else {
            Files.writeString(output, dot);
            spec.commandLine().getOut().println("wrote " + output);
        }
        return 0;
    }

    private byte[] render(String dot) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(dotBinary, "-Tsvg").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            throw new CliErrors.UsageException("SVG output needs the Graphviz 'dot' binary, which is not installed; write a .dot file instead");
        }
        try (var in = p.getOutputStream()) {
            in.write(dot.getBytes(StandardCharsets.UTF_8));
        }
        byte[] svg = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new CliErrors.UsageException("'dot -Tsvg' failed on this graph");
        return svg;
    }
}
