package dev.kiln.spark;

import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.runtime.Model;
import dev.kiln.serialization.KilnReader;
import dev.kiln.serialization.KilnWriter;
import dev.kiln.serialization.LoadLimits;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Scores a DataFrame column with a Kiln artifact. The artifact is read and checked once on the
 * driver (a bad file fails here, with the loader's message naming the field), shipped to the
 * executors once as a broadcast, loaded and compiled once per executor JVM ({@link ModelCache}),
 * and each partition's rows go through the compiled plan {@code batchSize} at a time. The output
 * column (an array of floats per row: the model's output for that row, flattened) is appended.
 *
 * <pre>{@code
 * Dataset<Row> scored = KilnScorer.load(Path.of("lenet.kiln.json")).inputCol("pixels").outputCol("logits").transform(df);
 * spark.udf().register("lenet", KilnScorer.load(path).udf(spark));   // SELECT lenet(pixels) FROM images
 * }</pre>
 *
 * The model takes one input whose first dim is the batch (symbolic in a traced graph) and whose
 * other dims are fixed; a row holds those other dims' values flattened, as numbers.
 */
public final class KilnScorer implements Serializable {
    private static final long serialVersionUID = 1L;

    private final byte[] artifact;
    private final String name;
    private final int[] sampleShape;
    private final DType inputDtype;
    private final int outputIndex;
    private final String inputCol, outputCol;
    private final int batchSize;

    private KilnScorer(byte[] artifact, String name, int[] sampleShape, DType inputDtype, int outputIndex, String inputCol, String outputCol, int batchSize) {
        this.artifact = artifact;
        this.name = name;
        this.sampleShape = sampleShape;
        this.inputDtype = inputDtype;
        this.outputIndex = outputIndex;
        this.inputCol = inputCol;
        this.outputCol = outputCol;
        this.batchSize = batchSize;
    }

    /** Reads a {@code *.kiln.json} artifact (with its sidecar weights, if any) and checks that it can score rows. */
    public static KilnScorer load(Path file) throws IOException { return of(KilnReader.read(file, LoadLimits.defaults()).graph()); }

    /** A scorer of this graph (its weights travel embedded in the broadcast). */
    public static KilnScorer of(Graph g) {
        if (g.inputs().size() != 1) {
            throw new IllegalArgumentException(g.name() + ": a scorer feeds one input column, but the model has " + g.inputs().size() + " inputs");
        }
        TensorType t = g.inputs().get(0).type();
        if (t.rank() < 1) throw new IllegalArgumentException(g.name() + ": input %" + g.inputs().get(0).name() + " " + t + " has no batch dim");
        if (!t.dtype().isFloatingPoint()) throw new IllegalArgumentException(g.name() + ": input " + t + " is not floating point");
        if (t.dim(0).isConstant()) {
            throw new IllegalArgumentException(g.name() + ": input " + t + " has a fixed first dim; a scorer runs batches of any size,"
                    + " so trace the model with that dim dynamic (TraceOptions.dynamic(0, 0, \"N\"))");
        }
        int[] sample = new int[t.rank() - 1];
        for (int d = 1; d < t.rank(); d++) {
            Dim dim = t.dim(d);
            if (!dim.isConstant()) {
                throw new IllegalArgumentException(g.name() + ": input " + t + " has the symbolic dim " + dim + " after the batch; rows need fixed sizes");
            }
            sample[d - 1] = (int) dim.value();
        }
        return new KilnScorer(KilnWriter.toJson(g), g.name(), sample, t.dtype(), 0, "features", "prediction", 256);
    }

    public KilnScorer inputCol(String column) { return new KilnScorer(artifact, name, sampleShape, inputDtype, outputIndex, column, outputCol, batchSize); }

    public KilnScorer outputCol(String column) { return new KilnScorer(artifact, name, sampleShape, inputDtype, outputIndex, inputCol, column, batchSize); }

    /** Rows per run of the compiled plan (default 256). */
    public KilnScorer batchSize(int rows) {
        if (rows < 1) throw new IllegalArgumentException("batchSize must be positive, got " + rows);
        return new KilnScorer(artifact, name, sampleShape, inputDtype, outputIndex, inputCol, outputCol, rows);
    }

    /** Which of the model's outputs to append, by its name (default: the first). */
    public KilnScorer output(String outputName) {
        List<String> names = ModelCache.get(artifact).outputNames();
        int i = names.indexOf(outputName);
        if (i < 0) throw new IllegalArgumentException(name + ": no output '" + outputName + "' (outputs: " + names + ")");
        return new KilnScorer(artifact, name, sampleShape, inputDtype, i, inputCol, outputCol, batchSize);
    }

    /** Numbers per row the model takes. */
    public int rowLength() { return Arrays.stream(sampleShape).reduce(1, Math::multiplyExact); }

    /** {@code df} with the output column appended. */
    public Dataset<Row> transform(Dataset<Row> df) {
        StructType in = df.schema();
        int col = RowArrays.checkColumn(in, inputCol);
        if (Arrays.asList(in.fieldNames()).contains(outputCol)) throw new IllegalArgumentException("column '" + outputCol + "' already exists");
        StructType out = in.add(outputCol, DataTypes.createArrayType(DataTypes.FloatType, false), false);
        Broadcast<byte[]> shipped = JavaSparkContext.fromSparkContext(df.sparkSession().sparkContext()).broadcast(artifact);
        return df.mapPartitions(new PartitionScorer(shipped, this.withoutArtifact(), col), Encoders.row(out));
    }

    /**
     * A SQL function scoring one row per call ({@code spark.udf().register("name", scorer.udf(spark))}).
     * It runs the plan at batch 1; {@link #transform} batches and is the faster way over many rows.
     * A null array gives null; a null number inside one fails the query, naming the position.
     */
    public UserDefinedFunction udf(SparkSession spark) {
        Broadcast<byte[]> shipped = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(artifact);
        KilnScorer spec = withoutArtifact();
        UDF1<scala.collection.Seq<Object>, float[]> f = seq -> {
            if (seq == null) return null;
            float[] x = new float[spec.rowLength()];
            RowArrays.read(scala.jdk.javaapi.CollectionConverters.asJava(seq), spec.name + " argument", x.length, x, 0);
            return spec.score(ModelCache.get(shipped.value()), x, 1)[0];
        };
        return functions.udf(f, DataTypes.createArrayType(DataTypes.FloatType, false));
    }

    /** This scorer's settings without the artifact bytes, which travel once per executor as a broadcast instead of in every task. */
    private KilnScorer withoutArtifact() { return new KilnScorer(null, name, sampleShape, inputDtype, outputIndex, inputCol, outputCol, batchSize); }

    /** Runs {@code rows} rows packed in {@code x}; each row's output flattened. */
    float[][] score(Model model, float[] x, int rows) {
        int[] shape = new int[sampleShape.length + 1];
        shape[0] = rows;
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        Strided input = Strided.contiguous(Storage.wrap(x), shape);
        if (inputDtype != DType.FLOAT32) input = Copy.toContiguous(input, inputDtype);
        Strided y = model.run(List.of(input)).get(outputIndex);
        if (y.rank() < 1 || y.shape()[0] != rows) {
            throw new IllegalStateException(name + ": output " + outputIndex + " has shape " + Arrays.toString(y.shape()) + ", not one entry per row");
        }
        float[] flat = Copy.toContiguous(y, DType.FLOAT32).storage().f32();
        int per = flat.length / rows;
        float[][] out = new float[rows][];
        for (int r = 0; r < rows; r++) out[r] = Arrays.copyOfRange(flat, r * per, (r + 1) * per);
        return out;
    }

    /** One partition's rows, scored {@code batchSize} at a time as the iterator is drained. */
    private static final class PartitionScorer implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final Broadcast<byte[]> artifact;
        private final KilnScorer spec;
        private final int col;

        PartitionScorer(Broadcast<byte[]> artifact, KilnScorer spec, int col) {
            this.artifact = artifact;
            this.spec = spec;
            this.col = col;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            Model model = ModelCache.get(artifact.value());
            int length = spec.rowLength();
            return new Iterator<>() {
                private final List<Row> pending = new ArrayList<>();
                private float[][] scores;
                private int next;

                @Override
                public boolean hasNext() {
                    if (next < pending.size()) return true;
                    pending.clear();
                    next = 0;
                    while (pending.size() < spec.batchSize && rows.hasNext()) pending.add(rows.next());
                    if (pending.isEmpty()) return false;
                    float[] x = new float[pending.size() * length];
                    for (int r = 0; r < pending.size(); r++) RowArrays.read(pending.get(r), col, spec.inputCol, length, x, r * length);
                    scores = spec.score(model, x, pending.size());
                    return true;
                }

                @Override
                public Row next() {
                    if (!hasNext()) throw new NoSuchElementException();
                    Row r = pending.get(next);
                    Object[] values = new Object[r.length() + 1];
                    for (int i = 0; i < r.length(); i++) values[i] = r.get(i);
                    values[r.length()] = scores[next++];
                    return RowFactory.create(values);
                }
            };
        }
    }
}
