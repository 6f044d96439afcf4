package dev.kiln.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.Linear;
import dev.kiln.eager.nn.ReLU;
import dev.kiln.eager.nn.Sequential;
import dev.kiln.graph.Graph;
import dev.kiln.runtime.Model;
import dev.kiln.serialization.KilnFormatException;
import dev.kiln.serialization.KilnWriter;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Tracer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scoring a DataFrame equals running the runtime's Model on the same rows; bad input fails with Kiln's message. */
class KilnScorerTest {
    static final int IN = 12, ROWS = 1001;
    static Path artifact;
    static float[][] features;

    @BeforeAll
    static void model(@TempDir Path dir) throws Exception {
        Kiln.manualSeed(3);
        Sequential mlp = new Sequential(new Linear(IN, 16), new ReLU(), new Linear(16, 3));
        mlp.eval();
        Graph g = Tracer.trace(mlp, new Tensor[] {Tensor.randn(4, IN)}, TraceOptions.builder().name("mlp").dynamic(0, 0, "N").build());
        artifact = dir.resolve("mlp.kiln.json");
        KilnWriter.save(g, artifact, KilnWriter.Weights.SIDECAR);
        features = new float[ROWS][];
        Tensor x = Tensor.randn(ROWS, IN);
        float[] flat = x.toFloatArray();
        for (int r = 0; r < ROWS; r++) {
            features[r] = new float[IN];
            System.arraycopy(flat, r * IN, features[r], 0, IN);
        }
    }

    static Dataset<Row> frame(SparkSession spark, float[][] rows) {
        List<Row> list = new ArrayList<>();
        for (int r = 0; r < rows.length; r++) {
            Float[] boxed = new Float[rows[r].length];
            for (int i = 0; i < boxed.length; i++) boxed[i] = rows[r][i];
            list.add(RowFactory.create((long) r, boxed));
        }
        StructType schema = new StructType().add("id", DataTypes.LongType).add("features", DataTypes.createArrayType(DataTypes.FloatType));
        return spark.createDataFrame(list, schema).repartition(3);
    }

    /** The runtime's answer for one row, computed apart from Spark. */
    static float[] expected(Model m, float[] row) {
        Strided out = m.run(List.of(Strided.contiguous(Storage.wrap(row.clone()), new int[] {1, IN}))).get(0);
        return Tensor.wrap(out).toFloatArray();
    }

    /** Row r (id in column 0, its scores in column col) equals the runtime Model on that id's features. */
    private void assertScores(Model m, Row r, int col) throws Exception {
        int id = (int) r.getLong(0);
        List<Object> scores = r.getList(col);
        float[] got = new float[scores.size()];
        for (int i = 0; i < got.length; i++) got[i] = (Float) scores.get(i);
        assertArrayEquals(expected(m, features[id]), got, 1e-5f, "row " + id);
    }

    @Test
    void transformEqualsTheRuntimeRowByRow() throws Exception {
        SparkSession spark = LocalSpark.get();
        Model m = Model.load(artifact);
        KilnScorer scorer = KilnScorer.load(artifact).inputCol("features").outputCol("scores").batchSize(64);
        List<Row> out = scorer.transform(frame(spark, features)).collectAsList();
        assertEquals(ROWS, out.size());
        for (Row r : out) assertScores(m, r, 2);
        // a second job with the same artifact reuses the executor's compiled model
        int before = ModelCache.size();
        scorer.batchSize(7).transform(frame(spark, features)).count();
        assertEquals(before, ModelCache.size());
    }

    @Test
    void theSqlFunctionScoresOneRowPerCall() throws Exception {
        SparkSession spark = LocalSpark.get();
        Model m = Model.load(artifact);
        spark.udf().register("mlp_score", KilnScorer.load(artifact).udf(spark));
        frame(spark, java.util.Arrays.copyOf(features, 50)).createOrReplaceTempView("samples");
        List<Row> out = spark.sql("SELECT id, mlp_score(features) AS s FROM samples").collectAsList();
        assertEquals(50, out.size());
        for (Row r : out) assertScores(m, r, 1);
    }

    @Test
    void badInputFailsWithKilnsMessage(@TempDir Path dir) throws Exception {
        Path broken = dir.resolve("broken.kiln.json");
        Files.writeString(broken, Files.readString(artifact).replace("\"relu\"", "\"exec\""));
        Files.copy(artifact.resolveSibling("mlp.safetensors"), dir.resolve("mlp.safetensors"));
        KilnFormatException e = assertThrows(KilnFormatException.class, () -> KilnScorer.load(broken));
        assertTrue(e.getMessage().contains("unknown op 'exec'"), e.getMessage());

        SparkSession spark = LocalSpark.get();
        KilnScorer scorer = KilnScorer.load(artifact).inputCol("features");
        float[][] short11 = {new float[IN], new float[IN - 1]};
        Exception job = assertThrows(Exception.class, () -> scorer.transform(frame(spark, short11)).collectAsList());
        assertTrue(rootMessage(job).contains("column 'features' has 11 numbers in a row; the model takes 12 per row"), rootMessage(job));
        IllegalArgumentException col = assertThrows(IllegalArgumentException.class, () -> scorer.inputCol("id").transform(frame(spark, short11)));
        assertTrue(col.getMessage().contains("column 'id' is bigint, expected an array of numbers"), col.getMessage());
    }

    static String rootMessage(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) sb.append(c.getMessage()).append(" | ");
        return sb.toString();
    }
}
