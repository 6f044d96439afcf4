package dev.kiln.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.Linear;
import dev.kiln.eager.nn.Module;
import dev.kiln.eager.nn.ReLU;
import dev.kiln.eager.nn.Sequential;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.optim.Optimizer;
import dev.kiln.eager.optim.SGD;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two Spark workers train what one process trains on the same global batches; a killed task
 * is retried from the round's state and changes nothing; a restarted driver resumes from the
 * newest checkpoint.
 */
class DataParallelTrainerTest {
    static final int IN = 10, CLASSES = 3, ROWS = 203, PER = 8;
    static float[] x;
    static long[] y;

    @BeforeAll
    static void data() {
        Kiln.manualSeed(5);
        Tensor feats = Tensor.randn(ROWS, IN);
        Tensor teacher = Tensor.randn(IN, CLASSES);
        x = feats.toFloatArray();
        y = new long[ROWS];
        float[] logits = feats.matmul(teacher).toFloatArray();
        for (int r = 0; r < ROWS; r++) {
            int best = 0;
            for (int c = 1; c < CLASSES; c++) if (logits[r * CLASSES + c] > logits[r * CLASSES + best]) best = c;
            y[r] = best;
        }
    }

    static Dataset<Row> frame() {
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < ROWS; r++) {
            Float[] f = new Float[IN];
            for (int i = 0; i < IN; i++) f[i] = x[r * IN + i];
            rows.add(RowFactory.create(f, (int) y[r]));
        }
        StructType schema = new StructType().add("features", DataTypes.createArrayType(DataTypes.FloatType)).add("label", DataTypes.IntegerType);
        // in list order (row i is x[i]): the order decides the batches
        return LocalSpark.get().createDataFrame(rows, schema);
    }

    static Module mlp() { return new Sequential(new Linear(IN, 16), new ReLU(), new Linear(16, CLASSES)); }

    static Optimizer sgd(List<Tensor> params) { return SGD.builder(params).lr(0.1).momentum(0.9).build(); }

    static DataParallelTrainer.Builder trainer(int workers, int steps) {
        return DataParallelTrainer.builder().model(DataParallelTrainerTest::mlp).optimizer(DataParallelTrainerTest::sgd)
                .loss(F::crossEntropy).featureShape(IN).workers(workers).rowsPerWorker(PER).steps(steps).checkpointEvery(5).seed(9);
    }

    /** One process on the concatenated global batches: the reference. */
    static Map<String, Tensor> reference(int workers, int steps, float[] losses) {
        Kiln.manualSeed(9);
        Module m = mlp();
        Optimizer opt = sgd(m.parameters());
        for (int s = 0; s < steps; s++) {
            long[] rows = Shards.globalBatch(ROWS, workers, PER, 9, s);
            float[] xb = new float[rows.length * IN];
            long[] yb = new long[rows.length];
            for (int j = 0; j < rows.length; j++) {
                System.arraycopy(x, (int) rows[j] * IN, xb, j * IN, IN);
                yb[j] = y[(int) rows[j]];
            }
            opt.zeroGrad();
            Tensor loss = F.crossEntropy(m.call(Tensor.of(xb, rows.length, IN)), Tensor.of(yb, rows.length));
            loss.backward();
            opt.step();
            losses[s] = (float) loss.item();
        }
        return m.stateDict();
    }

    static void assertSameParameters(Map<String, Tensor> want, Module got, float tol) {
        for (var e : want.entrySet()) assertArrayEquals(e.getValue().toFloatArray(), got.stateDict().get(e.getKey()).toFloatArray(), tol, e.getKey());
    }

    @Test
    void twoWorkersEqualOneProcessOnTheSameGlobalBatches(@TempDir Path dir) throws Exception {
        int steps = 12;
        DataParallelTrainer.Result r = trainer(2, steps).checkpointDir(dir).build().fit(frame(), "features", "label");
        float[] losses = new float[steps];
        Map<String, Tensor> want = reference(2, steps, losses);
        assertSameParameters(want, r.model(), 2e-5f);
        assertArrayEquals(losses, r.losses(), 2e-5f);
        assertTrue(losses[steps - 1] < losses[0], "it learns: " + java.util.Arrays.toString(losses));
        // a checkpoint per round (5 steps), the last one at the end
        assertTrue(Files.exists(dir.resolve("step-00000005.ckpt")) && Files.exists(dir.resolve("step-00000010.ckpt")) && Files.exists(dir.resolve("step-00000012.ckpt")));
        // one worker is the one-process run itself
        DataParallelTrainer.Result one = trainer(1, 6).build().fit(frame(), "features", "label");
        assertSameParameters(reference(1, 6, new float[6]), one.model(), 2e-5f);
    }

    @Test
    void aKilledTaskIsRetriedFromTheRoundsStateAndChangesNothing() {
        DataParallelTrainer.Result clean = trainer(2, 9).build().fit(frame(), "features", "label");
        DataParallelTrainer.Result failing = trainer(2, 9).onStep((step, worker) -> {
            if (step == 7 && worker == 1 && TaskContext.get().stageAttemptNumber() == 0) throw new IllegalStateException("injected failure at step 7");
        }).build().fit(frame(), "features", "label");
        // the same replicas, the same sums: bit for bit
        assertSameParameters(clean.model().stateDict(), failing.model(), 0f);
        assertArrayEquals(clean.losses(), failing.losses(), 0f);
    }

    @Test
    void aRestartedDriverResumesFromTheNewestCheckpoint(@TempDir Path dir) {
        DataParallelTrainer.Result full = trainer(2, 12).build().fit(frame(), "features", "label");
        trainer(2, 7).checkpointDir(dir).build().fit(frame(), "features", "label");
        DataParallelTrainer.Result resumed = trainer(2, 12).checkpointDir(dir).resume(true).build().fit(frame(), "features", "label");
        assertEquals(7, resumed.firstStep());
        assertEquals(5, resumed.losses().length);
        assertSameParameters(full.model().stateDict(), resumed.model(), 0f);
        assertArrayEquals(java.util.Arrays.copyOfRange(full.losses(), 7, 12), resumed.losses(), 0f);
    }

    @Test
    void badSettingsFailBeforeAnyJob() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> trainer(2, 3).rowsPerWorker(500).build().fit(frame(), "features", "label"));
        assertTrue(e.getMessage().contains("holds 102 rows, fewer than its 500 per step"), e.getMessage());
        IllegalArgumentException col = assertThrows(IllegalArgumentException.class, () -> trainer(2, 3).build().fit(frame(), "label", "label"));
        assertTrue(col.getMessage().contains("column 'label' is int, expected an array of numbers"), col.getMessage());
    }

    /** An MLP with a parameter the forward never uses: one process leaves it alone, so must the workers. */
    static final class WithUnused extends Module {
        private final Module net = registerModule("net", mlp());
        private final Tensor unused = registerParameter("unused", Tensor.ones(4));

        @Override
        public Tensor forward(Tensor x) { return net.call(x); }
    }

    @Test
    void aParameterWithoutGradientsIsLeftAloneAsInOneProcess() {
        DataParallelTrainer.Result r = DataParallelTrainer.builder().model(WithUnused::new)
                .optimizer(p -> SGD.builder(p).lr(0.1).momentum(0.9).weightDecay(0.05).build())
                .loss(F::crossEntropy).featureShape(IN).workers(2).rowsPerWorker(PER).steps(4).checkpointEvery(4).seed(9)
                .build().fit(frame(), "features", "label");
        assertArrayEquals(new float[] {1, 1, 1, 1}, r.model().stateDict().get("unused").toFloatArray(), 0f, "weight decay must not touch it");
    }
}
