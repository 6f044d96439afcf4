package dev.kiln.spark.example;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.optim.SGD;
import dev.kiln.examples.FashionData;
import dev.kiln.examples.LeNet;
import dev.kiln.graph.Graph;
import dev.kiln.serialization.KilnWriter;
import dev.kiln.spark.DataParallelTrainer;
import dev.kiln.spark.KilnScorer;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Tracer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Fashion-MNIST's LeNet trained data-parallel on Spark, then the test set scored on Spark with the
 * traced artifact. Without a master set (spark-submit sets one) it runs in local mode with one
 * task slot per worker. The data is written to Parquet first and read back, as a cluster job
 * would read it. Options: {@code --workers N} (2), {@code --steps N} (one epoch),
 * {@code --rows-per-worker N} (32), {@code --data DIR} (Fashion-MNIST's IDX files; the Debian
 * package's folder by default, synthetic data when absent), {@code --out DIR} (spark-out).
 */
public final class FashionMnistOnSpark {
    private FashionMnistOnSpark() {}

    public static void main(String[] args) throws Exception {
        int workers = 2, perWorker = 32, steps = -1;
        String data = null;
        Path out = Path.of("spark-out");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--workers" -> workers = Integer.parseInt(args[++i]);
                case "--rows-per-worker" -> perWorker = Integer.parseInt(args[++i]);
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--data" -> data = args[++i];
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " (--workers, --rows-per-worker, --steps, --data, --out)");
            }
        }
        SparkSession.Builder sb = SparkSession.builder().appName("kiln-fashion-mnist");
        if (!System.getProperties().containsKey("spark.master")) sb.master("local[" + workers + ",4]").config("spark.driver.host", "127.0.0.1");
        SparkSession spark = sb.config("spark.ui.enabled", "false").getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        try {
            Path dir = FashionData.locate(data);
            FashionData fd = dir != null ? FashionData.load(dir) : FashionData.synthetic(6000, 1000, 7);
            System.out.println("data: " + fd.source() + " (" + fd.trainImages().data().shape()[0] + " train, " + fd.testImages().data().shape()[0] + " test images)");
            Files.createDirectories(out);
            Dataset<Row> train = toParquet(spark, fd.trainImages(), fd.trainLabels(), out.resolve("train.parquet"));
            Dataset<Row> test = toParquet(spark, fd.testImages(), fd.testLabels(), out.resolve("test.parquet"));
            int epoch = (int) (train.count() / workers / perWorker);
            if (steps < 0) steps = epoch;

            DataParallelTrainer trainer = DataParallelTrainer.builder()
                    .model(LeNet::new)
                    .optimizer(p -> SGD.builder(p).lr(0.05).momentum(0.9).build())
                    .loss(F::crossEntropy)
                    .featureShape(1, 28, 28).workers(workers).rowsPerWorker(perWorker)
                    .steps(steps).checkpointEvery(Math.max(1, (steps + 3) / 4)).seed(1)
                    .checkpointDir(out.resolve("checkpoints")).build();
            long t0 = System.nanoTime();
            DataParallelTrainer.Result r = trainer.fit(train, "pixels", "label");
            double seconds = (System.nanoTime() - t0) / 1e9;
            float[] l = r.losses();
            System.out.printf(Locale.ROOT, "trained %d steps on %d workers (global batch %d) in %.1f s: loss %.3f -> %.3f%n",
                    l.length, workers, workers * perWorker, seconds, l[0], mean(l, Math.max(0, l.length - 20), l.length));
            System.out.printf(Locale.ROOT, "per step: %.2f ms on worker 0, of which %.2f ms in the all-reduce; %d bytes sent per worker%n",
                    r.msPerStep(), r.exchangeMsPerStep(), r.bytesSentPerStep());

            LeNet net = (LeNet) r.model();
            net.eval();
            Graph g;
            try (var ng = Autograd.noGrad()) {
                g = Tracer.trace(net, new Tensor[] {Tensor.zeros(2, 1, 28, 28)}, TraceOptions.builder().name("lenet").dynamic(0, 0, "N").build());
            }
            Path artifact = out.resolve("lenet-spark.kiln.json");
            KilnWriter.save(g, artifact, KilnWriter.Weights.SIDECAR);
            Dataset<Row> scored = KilnScorer.load(artifact).inputCol("pixels").outputCol("logits").batchSize(256).transform(test);
            Row acc = scored.select(functions.avg(functions.expr("CAST(array_position(logits, array_max(logits)) - 1 = label AS DOUBLE)"))).first();
            System.out.printf(Locale.ROOT, "test accuracy scored on Spark: %.4f (%s)%n", acc.getDouble(0), artifact);
        } finally {
            spark.stop();
        }
    }

    private static double mean(float[] v, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) s += v[i];
        return s / Math.max(1, to - from);
    }

    /** The images and labels as a Parquet table (pixels: array of 784 floats, label: int), read back. */
    private static Dataset<Row> toParquet(SparkSession spark, Tensor images, Tensor labels, Path file) {
        int n = images.data().shape()[0], d = 784;
        float[] px = images.contiguous().toFloatArray();
        long[] y = labels.toLongArray();
        List<Row> rows = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            float[] one = new float[d];
            System.arraycopy(px, i * d, one, 0, d);
            rows.add(RowFactory.create(one, (int) y[i]));
        }
        StructType schema = new StructType().add("pixels", DataTypes.createArrayType(DataTypes.FloatType, false)).add("label", DataTypes.IntegerType);
        spark.createDataFrame(rows, schema).coalesce(1).write().mode(SaveMode.Overwrite).parquet(file.toString());
        return spark.read().parquet(file.toString());
    }
}
