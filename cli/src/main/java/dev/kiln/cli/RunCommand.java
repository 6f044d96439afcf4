package dev.kiln.cli;

import dev.kiln.backend.Strided;
import dev.kiln.graph.Graph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.serialization.KilnReader;
import dev.kiln.serialization.Npy;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code kiln run MODEL --input x=x.npy --output y.npy}: one inference on .npy files. */
@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = KilnCli.Version.class, description = "Run a model on .npy inputs and write its first output as .npy.")
final class RunCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "a *.kiln.json artifact or an *.onnx model")
    Path model;

    @Option(names = "--input", paramLabel = "NAME=FILE.npy", required = true, description = "one per model input")
    Map<String, Path> inputs;

    @Option(names = "--output", paramLabel = "OUT.npy", required = true, description = "where to write the first output")
    Path output;

    @Option(names = "--batch-size", paramLabel = "N", description = "run in chunks of N rows along dim 0 (bounds memory), concatenating the outputs")
    Integer batchSize;

    @Option(names = "--optimize", paramLabel = "LEVEL", defaultValue = "O2", description = "O0 (reference interpreter), O1 or O2 (compiled; default ${DEFAULT-VALUE})")
    OptLevel optimize;

    @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "cpu", description = "cpu, cuda or cuda:N: where the compiled graph runs (default ${DEFAULT-VALUE})")
    String device;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        dev.kiln.eager.Device where = CliErrors.device(device); // before any work: a missing GPU fails first
        Graph g = ModelFiles.load(model);
        ModelFiles.warnIfTraining(g, spec.commandLine().getErr());
        List<Strided> in = Inputs.fromFiles(g, inputs);
        Executor exec = Executor.of(g, optimize, where);
        Strided out = batchSize == null ? exec.run(in).get(0) : Batches.run(exec, in, batchSize);
        Npy.write(output, out);
        spec.commandLine().getOut().println("wrote " + output + ": " + out.dtype() + java.util.Arrays.toString(out.shape()));
        return 0;
    }
}
