package dev.kiln.cli;

import dev.kiln.graph.Graph;
import dev.kiln.onnx.Onnx;
import dev.kiln.serialization.KilnReader;
import dev.kiln.serialization.KilnWriter;
import dev.kiln.serialization.LoadLimits;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code kiln convert IN OUT}: ONNX to a Kiln artifact and back, the direction chosen by the extensions. */
@Command(name = "convert", mixinStandardHelpOptions = true, versionProvider = KilnCli.Version.class, description = {
        "Convert between an ONNX model and a Kiln artifact: MODEL.onnx OUT.kiln.json imports (dynamic dims stay symbolic),",
        "MODEL.kiln.json OUT.onnx exports (opset 17, dynamic dims as dim_param)."})
final class ConvertCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IN", description = "a *.onnx model or a *.kiln.json artifact")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "a *.kiln.json or *.onnx file to write")
    Path out;

    @Option(names = "--fix-dim", paramLabel = "NAME=SIZE", description = "import with a named dim fixed (a recurrent layer over a dynamic length needs it)")
    Map<String, Integer> fixed = new LinkedHashMap<>();

    @Option(names = "--sidecar", description = "write the artifact's weights to a .safetensors file beside it (import) or the ONNX weights to OUT.data (export)")
    boolean sidecar;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        String i = in.getFileName().toString().toLowerCase(Locale.ROOT), o = out.getFileName().toString().toLowerCase(Locale.ROOT);
        if (i.endsWith(".onnx") && o.endsWith(".kiln.json")) {
            Graph g = Onnx.load(in, LoadLimits.defaults(), fixed);
            KilnWriter.save(g, out, sidecar ? KilnWriter.Weights.SIDECAR : KilnWriter.Weights.EMBEDDED);
        } else if (i.endsWith(".kiln.json") && o.endsWith(".onnx")) {
            if (!fixed.isEmpty()) throw new IllegalArgumentException("convert: --fix-dim applies to an ONNX import, not to an export");
            Graph g = KilnReader.load(in);
            if (sidecar) Onnx.save(g, out, true);
            else Onnx.save(g, out);
        } else {
            throw new IllegalArgumentException("convert: expected MODEL.onnx OUT.kiln.json or MODEL.kiln.json OUT.onnx, got " + in.getFileName() + " -> " + out.getFileName());
        }
        spec.commandLine().getOut().println("wrote " + out.toAbsolutePath());
        return 0;
    }
}
