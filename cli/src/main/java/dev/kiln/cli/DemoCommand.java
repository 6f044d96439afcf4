package dev.kiln.cli;

import dev.kiln.examples.FashionMnistDemo;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kiln demo}: the Fashion-MNIST job, from eager training to a reloaded, compiled artifact. */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = KilnCli.Version.class, subcommands = GptDemoCommand.class, description = {
        "Train LeNet-5 on Fashion-MNIST eagerly, evaluate it, save a checkpoint, then trace it, export it as",
        "a JSON artifact, reload it without the model code, compile it and check its predictions equal eager's.",
        "`kiln demo gpt` runs the second demo, a character-level GPT (see kiln demo gpt --help)."})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--data", paramLabel = "DIR", description = "folder with the IDX files (default: $KILN_DATA, then /usr/share/datasets/fashion-mnist)")
    String data;

    @Option(names = "--epochs", defaultValue = "3", description = "training epochs (default ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "64", description = "batch size (default ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--lr", defaultValue = "0.05", description = "SGD learning rate (default ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--momentum", defaultValue = "0.9", description = "SGD momentum (default ${DEFAULT-VALUE})")
    double momentum;

    @Option(names = "--seed", defaultValue = "0", description = "random seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--limit", defaultValue = "0", description = "train on the first N images only (0: all)")
    int limit;

    @Option(names = "--checkpoint", defaultValue = "checkpoints/lenet-fashion.safetensors", description = "checkpoint file; the artifact goes next to it")
    Path checkpoint;

    @Option(names = "--device", defaultValue = "cpu", description = "where to train and evaluate: cpu, cuda or cuda:N (default ${DEFAULT-VALUE}; "
            + "cuda needs an NVIDIA GPU, its driver and NVRTC, docs/cuda.md)")
    String device;

    @Override
    public Integer call() throws Exception {
        if (epochs <= 0 || batchSize <= 0 || limit < 0) {
            throw new IllegalArgumentException("demo: --epochs and --batch-size must be positive and --limit non-negative");
        }
        CliErrors.device(device); // fails before any work when the device cannot be used
        FashionMnistDemo.run(new FashionMnistDemo.Options(data, epochs, batchSize, lr, momentum, seed, limit, checkpoint, device), System.out);
        return 0;
    }
}
