package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Value;
import dev.kiln.serialization.KilnWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The deployment runtime: a saved model loads, runs by position and by name, on many threads, with clear errors. */
class ModelTest {
    @TempDir
    Path dir;

    /** relu(x @ w + b) with w = [[1, -1], [2, 0], [0, 3]] and b = [0.5, -0.5], over x: f32[N,3]. */
    static Graph affine() {
        GraphBuilder g = Graph.builder("affine");
        Value x = g.addInput("x", new TensorType(DType.FLOAT32, new Dim[] {Dim.symbol("N"), Dim.of(3)}));
        Value w = g.addParam("w", TensorType.of(DType.FLOAT32, 3, 2), Tensors.of(new float[] {1, -1, 2, 0, 0, 3}, 3, 2));
        Value b = g.addParam("b", TensorType.of(DType.FLOAT32, 2), Tensors.of(new float[] {0.5f, -0.5f}, 2));
        return g.output(g.add(Op.RELU, Attrs.EMPTY, "Affine.java:1", g.add(Op.ADDMM, Attrs.EMPTY, "Affine.java:1", b, x, w))).build();
    }

    /** The same, written out in Java. */
    static float[] expected(float[] x, int rows) {
        float[] y = new float[rows * 2];
        for (int r = 0; r < rows; r++) {
            float a = x[3 * r], b = x[3 * r + 1], c = x[3 * r + 2];
            y[2 * r] = Math.max(0, a + 2 * b + 0.5f);
            y[2 * r + 1] = Math.max(0, -a + 3 * c - 0.5f);
        }
        return y;
    }

    @Test
    void aSavedModelRunsByPositionAndByNameAtAnyBatch() throws Exception {
        Path file = dir.resolve("affine.kiln.json");
        KilnWriter.save(affine(), file, KilnWriter.Weights.SIDECAR);
        Model m = Model.load(file);
        assertEquals(List.of("x"), m.inputNames());
        assertEquals(List.of("output0"), m.outputNames());
        assertEquals("f32[N,3]", m.inputType("x").toString());
        for (int rows : new int[] {1, 2, 63, 64, 65}) {
            float[] x = new float[rows * 3];
            for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i) * 2;
            assertArrayEquals(expected(x, rows), Tensors.toFloatArray(m.run(Tensors.of(x, rows, 3))), 1e-6f, "rows " + rows);
            Map<String, Strided> out = m.run(Map.of("x", Tensors.of(x, rows, 3)));
            assertArrayEquals(expected(x, rows), Tensors.toFloatArray(out.get("output0")), 1e-6f);
        }
    }

    @Test
    void oneModelServesManyThreads() throws Exception {
        Model m = Model.of(affine(), dev.kiln.graph.opt.OptLevel.O2);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> all = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                int rows = 1 + t * 7;
                all.add(pool.submit(() -> {
                    float[] x = new float[rows * 3];
                    for (int i = 0; i < x.length; i++) x[i] = (i * 31 + rows) % 17 - 8;
                    for (int k = 0; k < 50; k++) if (!java.util.Arrays.equals(expected(x, rows), Tensors.toFloatArray(m.run(Tensors.of(x, rows, 3))))) return false;
                    return true;
                }));
            }
            for (Future<Boolean> f : all) assertTrue(f.get());
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void badInputsAreNamed() {
        Model m = Model.of(affine(), dev.kiln.graph.opt.OptLevel.O2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.run(Tensors.of(new double[] {1, 2, 3}, 1, 3)));
        assertTrue(e.getMessage().contains("input 'x' must be f32 (f32[N,3]), got f64"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> m.run(Map.of("y", Tensors.of(new float[] {1, 2, 3}, 1, 3))));
        assertTrue(e.getMessage().contains("missing input 'x'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> m.run(Map.of("x", Tensors.of(new float[] {1, 2, 3}, 1, 3), "z", Tensors.of(new float[] {1}, 1))));
        assertTrue(e.getMessage().contains("no input named 'z'"), e.getMessage());
        RuntimeException shape = assertThrows(RuntimeException.class, () -> m.run(Tensors.of(new float[] {1, 2, 3, 4}, 1, 4)));
        assertTrue(shape.getMessage().contains("x") && shape.getMessage().contains("[1, 4]"), shape.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensors.of(new float[] {1, 2, 3}, 2, 2));
        assertTrue(e.getMessage().contains("3 values do not fill shape [2, 2]"), e.getMessage());
    }
}
