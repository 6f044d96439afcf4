package dev.kiln.spark;

import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.Module;
import dev.kiln.eager.optim.Optimizer;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/**
 * Data-parallel training on Spark in barrier execution mode: one model replica per task, each
 * step's gradients summed across tasks ({@link PeerExchange}) and the same optimizer step
 * applied by every replica, so they stay identical. Training runs in rounds of
 * {@code checkpointEvery} steps, each one barrier stage: the driver broadcasts the state, the
 * tasks train, worker 0 hands the new state back, and the driver writes it as a checkpoint. A
 * failed task makes Spark retry the whole stage, which starts again from the round's state:
 * nothing is lost and no step is applied twice. A driver restarted with {@link #resume} continues
 * from the newest checkpoint in the folder.
 *
 * <p>The row order of {@code data} (as {@code zipWithIndex} sees it) decides the batches: sort
 * it, or read it in a fixed order, to make runs repeatable. With a fixed global batch ({@code workers x rowsPerWorker} rows, {@link Shards}), N workers
 * compute what one process computes on the concatenated batch: the loss is each worker's mean
 * over its rows, averaged over workers. The sums run in another order, so parameters agree to
 * float rounding, not bit for bit.
 */
public final class DataParallelTrainer implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Builds the model replica (each task and the driver call it; the driver's state then overwrites the tasks'). */
    public interface ModelFactory extends Serializable { Module create(); }

    public interface OptimizerFactory extends Serializable { Optimizer create(List<Tensor> parameters); }

    /** The loss of a batch: the model's output and the labels (i64 [rows]) to a 0-d mean over the rows. */
    public interface LossFunction extends Serializable { Tensor loss(Tensor output, Tensor labels); }

    /** Called on each worker before each step (progress, tests that inject a failure). */
    public interface StepHook extends Serializable { void beforeStep(int step, int worker); }

    final ModelFactory model;
    final OptimizerFactory optimizer;
    final LossFunction loss;
    final int[] featureShape;
    final int workers, rowsPerWorker, steps, checkpointEvery;
    final long seed;
    final String checkpointDir;
    final boolean resume;
    final StepHook hook;

    private DataParallelTrainer(Builder b) {
        model = b.model;
        optimizer = b.optimizer;
        loss = b.loss;
        featureShape = b.featureShape.clone();
        workers = b.workers;
        rowsPerWorker = b.rowsPerWorker;
        steps = b.steps;
        checkpointEvery = b.checkpointEvery;
        seed = b.seed;
        checkpointDir = b.checkpointDir == null ? null : b.checkpointDir.toString();
        resume = b.resume;
        hook = b.hook;
    }



    public static Builder builder() { return new Builder(); }

    private static final java.security.SecureRandom TOKENS = new java.security.SecureRandom();

    /**
     * What training produced: the trained model, the loss of every step, and the cost of a step
     * after the first round (worker 0's time per step, the part spent in the all-reduce, and the
     * bytes each worker sent per step): the steady state, once the JIT has compiled the code. With
     * a single round, that round's.
     */
    public record Result(Module model, float[] losses, int firstStep, double msPerStep, double exchangeMsPerStep, long bytesSentPerStep) {}

    /**
     * Trains on {@code data}: {@code featuresCol} an array of numbers per row (reshaped to the
     * feature shape), {@code labelCol} an integer class per row.
     */
    public Result fit(Dataset<Row> data, String featuresCol, String labelCol) {
        RowArrays.checkColumn(data.schema(), featuresCol);
        String labelType = data.schema().fields()[data.schema().fieldIndex(labelCol)].dataType().typeName();
        if (!List.of("integer", "long", "short", "byte").contains(labelType)) {
            throw new IllegalArgumentException("column '" + labelCol + "' is " + labelType + ", expected integer class labels");
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(data.sparkSession().sparkContext());
        long rows = data.count();
        for (int w = 0; w < workers; w++) Shards.localBatch(Shards.shardSize(rows, w, workers), rowsPerWorker, seed, w, 0); // fails early when a shard is too small
        int n = workers;
        // row i goes to worker i mod n (Long keys hash to themselves), with its index to keep the order
        JavaRDD<Tuple2<Long, Row>> sharded = data.select(featuresCol, labelCol).javaRDD().zipWithIndex()
                .mapToPair(t -> new Tuple2<>(t._2() % n, new Tuple2<>(t._2(), t._1())))
                .partitionBy(new HashPartitioner(n)).values().cache();

        int step = 0;
        byte[] state = resume ? latestCheckpoint() : null;
        if (state == null) {
            Kiln.manualSeed(seed);
            Module m = model.create();
            state = TrainingState.save(m, optimizer.create(m.parameters()), 0);
        } else {
            step = TrainingState.step(state);
        }
        int first = step;
        String runId = java.util.UUID.randomUUID().toString();
        List<Float> losses = new ArrayList<>();
        double[] ms = new double[2], exchangeMs = new double[2];
        int[] timed = new int[2];
        long bytes = 0;
        try {
            while (step < steps) {
                int to = Math.min(steps, step + checkpointEvery);
                TrainingRound.Outcome lead = round(jsc, sharded, state, step, to, rows, runId, featuresCol, labelCol);
                state = lead.state();
                for (float l : lead.losses()) losses.add(l);
                // the first round includes the JIT's warm-up: later rounds give the steady state
                int cost = step == first ? 0 : 1;
                ms[cost] += lead.ms();
                exchangeMs[cost] += lead.exchangeMs();
                timed[cost] += to - step;
                bytes = lead.bytesPerStep();
                step = to;
                if (checkpointDir != null) writeCheckpoint(state, step);
            }
        } finally {
            sharded.unpersist();
        }
        Module trained = model.create();
        TrainingState.restore(state, trained, optimizer.create(trained.parameters()));
        float[] l = new float[losses.size()];
        for (int i = 0; i < l.length; i++) l[i] = losses.get(i);
        int c = timed[1] > 0 ? 1 : 0;
        return new Result(trained, l, first, ms[c] / Math.max(1, timed[c]), exchangeMs[c] / Math.max(1, timed[c]), bytes);
    }

    /** One round: a barrier stage training steps {@code from} to {@code to} from {@code state}; worker 0's outcome. */
    private TrainingRound.Outcome round(JavaSparkContext jsc, JavaRDD<Tuple2<Long, Row>> sharded, byte[] state, int from, int to, long rows,
                                        String runId, String featuresCol, String labelCol) {
        Broadcast<byte[]> shipped = jsc.broadcast(state);
        try {
            TrainingRound round = new TrainingRound(this, new String[] {featuresCol, labelCol}, shipped, from, to, rows, TOKENS.nextLong(), runId);
            List<TrainingRound.Outcome> outcomes = sharded.rdd().barrier()
                    .mapPartitions(round, false, scala.reflect.ClassTag$.MODULE$.apply(TrainingRound.Outcome.class))
                    // a shuffle after the barrier stage: Spark retries a failed barrier shuffle-map
                    // stage as a whole, but aborts the job when a barrier result stage fails
                    .toJavaRDD().repartition(1).collect();
            return outcomes.stream().filter(o -> o.state() != null).findFirst()
                    .orElseThrow(() -> new IllegalStateException("worker 0 returned no state"));
        } finally {
            shipped.destroy();
        }
    }

    /** Writes the state as NAME-STEP.ckpt through a temporary file, so a crash never leaves half a checkpoint. */
    private void writeCheckpoint(byte[] state, int step) {
        try {
            Path dir = Path.of(checkpointDir);
            Files.createDirectories(dir);
            Path tmp = dir.resolve(String.format("step-%08d.ckpt.tmp", step));
            Files.write(tmp, state);
            Files.move(tmp, dir.resolve(String.format("step-%08d.ckpt", step)), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the checkpoint of step " + step + " to " + checkpointDir, e);
        }
    }

    /** The newest step-*.ckpt of the checkpoint folder, or null when there is none. */
    private byte[] latestCheckpoint() {
        if (checkpointDir == null) throw new IllegalStateException("resume needs a checkpoint folder (checkpointDir)");
        Path dir = Path.of(checkpointDir);
        if (!Files.isDirectory(dir)) return null;
        try (Stream<Path> files = Files.list(dir)) {
            // by step number, not by name: steps past 10^8 have more digits
            Path newest = files.filter(p -> p.getFileName().toString().matches("step-\\d{8,10}\\.ckpt"))
                    .max(java.util.Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().replaceAll("\\D", "")))).orElse(null);
            return newest == null ? null : Files.readAllBytes(newest);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the checkpoint folder " + dir, e);
        }
    }

    public static final class Builder {
        private ModelFactory model;
        private OptimizerFactory optimizer;
        private LossFunction loss;
        private int[] featureShape;
        private int workers = 2, rowsPerWorker = 32, steps = 100, checkpointEvery = 50;
        private long seed = 0;
        private Path checkpointDir;
        private boolean resume;
        private StepHook hook;

        public Builder model(ModelFactory f) { model = f; return this; }

        public Builder optimizer(OptimizerFactory f) { optimizer = f; return this; }

        public Builder loss(LossFunction f) { loss = f; return this; }

        /** The shape of one row's features (e.g. 1, 28, 28); a row holds them flattened. */
        public Builder featureShape(int... shape) { featureShape = shape.clone(); return this; }

        /** Tasks of the barrier stage; the cluster (or local[N]) needs that many free slots at once. */
        public Builder workers(int n) { workers = n; return this; }

        /** Rows each worker takes per step; the global batch is workers x rowsPerWorker. */
        public Builder rowsPerWorker(int n) { rowsPerWorker = n; return this; }

        public Builder steps(int n) { steps = n; return this; }

        /** Steps per round (one barrier stage, then a checkpoint). */
        public Builder checkpointEvery(int n) { checkpointEvery = n; return this; }

        public Builder seed(long s) { seed = s; return this; }

        public Builder checkpointDir(Path dir) { checkpointDir = dir; return this; }

        /** Continue from the newest checkpoint in the folder, when there is one. */
        public Builder resume(boolean r) { resume = r; return this; }

        public Builder onStep(StepHook h) { hook = h; return this; }

        public DataParallelTrainer build() {
            if (model == null || optimizer == null || loss == null || featureShape == null) {
                throw new IllegalStateException("DataParallelTrainer needs model, optimizer, loss and featureShape");
            }
            if (workers < 1 || rowsPerWorker < 1 || steps < 0 || checkpointEvery < 1) {
                throw new IllegalArgumentException("workers, rowsPerWorker and checkpointEvery must be positive and steps not negative, got "
                        + workers + ", " + rowsPerWorker + ", " + checkpointEvery + ", " + steps);
            }
            return new DataParallelTrainer(this);
        }
    }
}
