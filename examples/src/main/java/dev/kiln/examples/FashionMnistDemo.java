package dev.kiln.examples;

import dev.kiln.Kiln;
import dev.kiln.eager.Device;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.data.DataLoader;
import dev.kiln.eager.data.TensorDataset;
import dev.kiln.eager.io.Checkpoint;
import dev.kiln.eager.metrics.ConfusionMatrix;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.optim.SGD;
import dev.kiln.eager.random.Generator;
import dev.kiln.eager.train.LineChart;
import dev.kiln.eager.train.MetricsLogger;
import dev.kiln.eager.train.ProgressBar;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The main job: LeNet-5 on Fashion-MNIST, trained eagerly with the recipe of
 * ../shared/bench/torch_fashion.py (SGD lr 0.05 momentum 0.9, batch 64, 3 epochs), then
 * evaluated on the test set and saved as a checkpoint.
 */
public final class FashionMnistDemo {
    private FashionMnistDemo() {}

    /** Options of {@code kiln demo}. */
    public record Options(String data, int epochs, int batchSize, double lr, double momentum, long seed, int limit, Path checkpoint,
                          String device) {
        public static Options parse(String[] args) {
            String data = null;
            int epochs = 3, batch = 64, limit = 0;
            double lr = 0.05, momentum = 0.9;
            long seed = 0;
            Path ckpt = Path.of("checkpoints", "lenet-fashion.safetensors");
            String device = "cpu";
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                String v = i + 1 < args.length ? args[i + 1] : null;
                switch (a) {
                    case "--data" -> { data = need(a, v); i++; }
                    case "--epochs" -> { epochs = positive(a, need(a, v)); i++; }
                    case "--batch-size" -> { batch = positive(a, need(a, v)); i++; }
                    case "--lr" -> { lr = Double.parseDouble(need(a, v)); i++; }
                    case "--momentum" -> { momentum = Double.parseDouble(need(a, v)); i++; }
                    case "--seed" -> { seed = Long.parseLong(need(a, v)); i++; }
                    case "--limit" -> { limit = positive(a, need(a, v)); i++; }
                    case "--checkpoint" -> { ckpt = Path.of(need(a, v)); i++; }
                    case "--device" -> { device = need(a, v); i++; }
                    default -> throw new IllegalArgumentException("demo: unknown option '" + a + "' (options: --data DIR --epochs N "
                            + "--batch-size N --lr X --momentum X --seed N --limit N --checkpoint FILE --device cpu|cuda|cuda:N)");
                }
            }
            return new Options(data, epochs, batch, lr, momentum, seed, limit, ckpt, device);
        }

        private static String need(String flag, String v) {
            if (v == null) throw new IllegalArgumentException("demo: " + flag + " needs a value");
            return v;
        }

        private static int positive(String flag, String v) {
            int n;
            try {
                n = Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("demo: " + flag + " needs a positive integer, got '" + v + "'");
            }
            if (n <= 0) throw new IllegalArgumentException("demo: " + flag + " needs a positive integer, got " + n);
            return n;
        }
    }

    public static void run(String[] args, PrintStream out) throws Exception { run(Options.parse(args), out); }

    public static void run(Options o, PrintStream out) throws Exception {
        Device device = Device.of(o.device); // fails here, with the reason, when CUDA cannot be used
        String ckptName = o.checkpoint.getFileName().toString();
        if (ckptName.equals("lenet.kiln.json") || ckptName.equals("lenet.safetensors") || ckptName.equals("metrics") || ckptName.equals("training.svg")) {
            throw new IllegalArgumentException("demo: --checkpoint " + o.checkpoint + " would be overwritten by the exported artifact or the metrics "
                    + "written beside it (lenet.kiln.json, lenet.safetensors, metrics/, training.svg); choose another name");
        }
        Kiln.manualSeed(o.seed);
        FashionData data = loadData(o, out);
        Tensor xtr = data.trainImages(), ytr = data.trainLabels();
        if (o.limit > 0 && o.limit < xtr.shape(0)) {
            xtr = xtr.narrow(0, 0, o.limit);
            ytr = ytr.narrow(0, 0, o.limit);
        }
        int epochs = data.synthetic() ? Math.min(o.epochs, 2) : o.epochs;
        out.printf(Locale.ROOT, "data: %s (%d train, %d test images)%n", data.source(), xtr.shape(0), data.testImages().shape(0));

        LeNet model = new LeNet();
        out.println(model);
        out.printf(Locale.ROOT, "parameters: %,d%n", model.parameterCount());
        if (!device.isCpu()) out.println("device: " + device);
        model.to(device);
        SGD opt = SGD.builder(model.parameters()).lr(o.lr).momentum(o.momentum).build();
        Generator shuffle = new Generator(o.seed + 1);
        DataLoader<List<Tensor>, List<Tensor>> loader = DataLoader.builder(new TensorDataset(xtr, ytr))
                .batchSize(o.batchSize).shuffle(true).generator(shuffle).build();

        double accuracy = 0;
        Path runDir = o.checkpoint.toAbsolutePath().getParent();
        MetricsLogger metrics = MetricsLogger.open(runDir.resolve("metrics"));
        long globalStep = 0;
        for (int epoch = 1; epoch <= epochs; epoch++) {
            model.train();
            ProgressBar bar = new ProgressBar(out, String.format(Locale.ROOT, "epoch %d/%d", epoch, epochs), loader.size(), "img");
            long t0 = System.nanoTime();
            double lossSum = 0;
            long correct = 0, seen = 0;
            int step = 0;
            for (List<Tensor> batch : loader) {
                Tensor x = batch.get(0).to(device), y = batch.get(1).to(device);
                opt.zeroGrad();
                Tensor logits = model.call(x);
                Tensor loss = F.crossEntropy(logits, y);
                loss.backward();
                opt.step();
                int n = x.shape(0);
                double batchLoss = loss.item();
                lossSum += batchLoss * n;
                try (var ng = Autograd.noGrad()) {
                    correct += (long) logits.argmax(1, false).eq(y).to(dev.kiln.backend.DType.INT64).sum().item();
                }
                seen += n;
                bar.update(++step, seen, String.format(Locale.ROOT, "loss %.4f  acc %.4f", lossSum / seen, (double) correct / seen));
                metrics.log("step", orderedMap("step", ++globalStep, "epoch", epoch, "loss", batchLoss));
            }
            double trainSecs = (System.nanoTime() - t0) / 1e9;
            ConfusionMatrix cm = evaluate(model, data.testImages(), data.testLabels(), device);
            accuracy = cm.accuracy();
            // train_loss in full (Double.toString round-trips): the same seed gives the same bits on every run
            out.printf(Locale.ROOT, "{\"epoch\": %d, \"train_loss\": %s, \"train_s\": %.2f, \"test_acc\": %.4f, \"images_per_s\": %.0f}%n",
                    epoch, Double.toString(lossSum / seen), trainSecs, accuracy, seen / trainSecs);
            metrics.log("epoch", orderedMap("epoch", epoch, "step", globalStep, "train_loss", lossSum / seen, "train_acc", (double) correct / seen,
                    "test_acc", accuracy, "train_s", trainSecs));
            Checkpoint.save(o.checkpoint, model, opt, null, Map.of("shuffle", shuffle), epoch);
        }
        metrics.close();
        double[][] stepLoss = metrics.series("step", "step", "loss"), epochLoss = metrics.series("epoch", "step", "train_loss");
        double[][] trainAcc = metrics.series("epoch", "epoch", "train_acc"), testAcc = metrics.series("epoch", "epoch", "test_acc");
        Path chart = runDir.resolve("training.svg");
        LineChart.write(chart,
                new LineChart("Fashion-MNIST LeNet: loss", "step", "cross-entropy").series("batch", stepLoss[0], stepLoss[1]).series("epoch mean", epochLoss[0], epochLoss[1]),
                new LineChart("accuracy", "epoch", "accuracy").series("train", trainAcc[0], trainAcc[1]).series("test", testAcc[0], testAcc[1]));
        out.println("metrics: " + metrics.directory().resolve("metrics.jsonl") + " (and step.csv, epoch.csv); curves: " + chart);
        ConfusionMatrix cm = evaluate(model, data.testImages(), data.testLabels(), device);
        out.println();
        out.println("test set confusion matrix (rows: true class, columns: predicted):");
        out.println(cm.format(Arrays.asList(FashionData.CLASSES)));
        out.printf(Locale.ROOT, "test accuracy %.4f, macro F1 %.4f%n", cm.accuracy(), cm.macroF1());
        out.println("checkpoint: " + o.checkpoint.toAbsolutePath());
        Path exportDir = o.checkpoint.toAbsolutePath().getParent();
        model.to(Device.cpu()); // the deployment stage traces, exports and checks on the CPU
        long mismatches = DeployStage.run(model, data.testImages(), data.testLabels(), exportDir, out);
        if (mismatches > 0) {
            throw new IllegalStateException("the deployed artifact disagrees with the eager model on " + mismatches + " test images");
        }
        if (data.synthetic()) out.println("(synthetic data: install the real data set to reproduce the 0.87+ accuracy of the recipe)");
    }

    /** A map that keeps its keys in the order given (the CSV columns' order). */
    private static Map<String, Number> orderedMap(Object... kv) {
        Map<String, Number> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], (Number) kv[i + 1]);
        return m;
    }

    private static FashionData loadData(Options o, PrintStream out) throws java.io.IOException {
        Path dir = FashionData.locate(o.data);
        if (dir != null) return FashionData.load(dir);
        out.println("Fashion-MNIST was not found in $KILN_DATA or " + FashionData.DEBIAN_DIR + ".");
        out.println("  get it with:  sudo apt-get install -y dataset-fashion-mnist");
        out.println("  or download the four *-ubyte.gz files into a folder and pass --data DIR (or set KILN_DATA).");
        out.println("Training on a small synthetic stand-in so the pipeline still runs.");
        return FashionData.synthetic(2048, 512, o.seed);
    }

    static ConfusionMatrix evaluate(LeNet model, Tensor images, Tensor labels) { return evaluate(model, images, labels, Device.cpu()); }

    /** Test-set predictions in chunks of 1000 images, computed on device. */
    static ConfusionMatrix evaluate(LeNet model, Tensor images, Tensor labels, Device device) {
        model.eval();
        ConfusionMatrix cm = new ConfusionMatrix(10);
        try (var ng = Autograd.noGrad()) {
            int n = images.shape(0);
            for (int s = 0; s < n; s += 1000) {
                int len = Math.min(1000, n - s);
                Tensor pred = model.call(images.narrow(0, s, len).to(device)).argmax(1, false);
                cm.update(pred, labels.narrow(0, s, len));
            }
        }
        model.train();
        return cm;
    }
}
