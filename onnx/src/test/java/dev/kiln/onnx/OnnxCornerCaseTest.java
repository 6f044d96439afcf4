package dev.kiln.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.Strided;
import dev.kiln.eager.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.serialization.KilnFormatException;
import dev.kiln.serialization.LoadLimits;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX semantics where a plain reading goes wrong (each was a silent wrong answer or a crash in
 * review): negative Gather indices over a symbolic dim, integer Div and Mod, initializer names
 * that collide once sanitized, and a ConstantOfShape that asks for more memory than exists.
 * Expected values are ONNX's definitions written out here, not Kiln's kernels.
 */
class OnnxCornerCaseTest {
    @TempDir
    Path dir;

    static List<Tensor> run(Graph g, Tensor... in) {
        List<Strided> data = new ArrayList<>();
        for (Tensor t : in) data.add(t.data());
        List<Tensor> out = new ArrayList<>();
        for (Strided s : CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2)).run(data)) out.add(Tensor.wrap(s));
        return out;
    }

    @Test
    void aNegativeScalarGatherIndexCountsFromTheEndAtEveryLength() throws Exception {
        // x[:, -1, :] over a symbolic T: the last step whatever T is at run time
        Path p = new TinyOnnx().input("x", OnnxProto.FLOAT, "N", "T", 3L).output("y", OnnxProto.FLOAT, "N", 3L)
                .longs("last", new long[] {-1}).node("Gather", List.of("x", "last"), "y", TinyOnnx.attrInt("axis", 1)).write(dir, "last.onnx");
        Graph g = Onnx.load(p);
        for (int t : new int[] {1, 2, 7, 64}) {
            float[] x = new float[2 * t * 3];
            for (int i = 0; i < x.length; i++) x[i] = i;
            float[] got = run(g, Tensor.of(x, 2, t, 3)).get(0).toFloatArray();
            float[] want = new float[6];
            for (int n = 0; n < 2; n++) for (int c = 0; c < 3; c++) want[3 * n + c] = x[(n * t + t - 1) * 3 + c];
            assertArrayEquals(want, got, "T=" + t);
        }
    }

    @Test
    void negativeEmbeddingIndicesCountFromTheEnd() throws Exception {
        float[] table = {0, 1, 10, 11, 20, 21, 30, 31};
        Path p = new TinyOnnx().input("ids", OnnxProto.INT64, "N").output("y", OnnxProto.FLOAT, "N", 2L)
                .floats("table", table, 4, 2).node("Gather", List.of("table", "ids"), "y", TinyOnnx.attrInt("axis", 0)).write(dir, "emb.onnx");
        float[] got = run(Onnx.load(p), Tensor.of(new long[] {-1, 0, -4, 2}, 4)).get(0).toFloatArray();
        assertArrayEquals(new float[] {30, 31, 0, 1, 0, 1, 20, 21}, got);
    }

    @Test
    void integerDivTruncatesAndModTakesTheSignOfItsDivisorUnlessFmod() throws Exception {
        long[] a = {7, -7, 7, -7, Long.MAX_VALUE, -9, 0, Long.MIN_VALUE + 1, 5, -5, Long.MIN_VALUE, Long.MIN_VALUE + 1, Long.MIN_VALUE, Long.MAX_VALUE};
        long[] b = {2, 2, -2, -2, 3, 4, -5, 7, Long.MIN_VALUE, Long.MIN_VALUE, Long.MIN_VALUE, Long.MIN_VALUE, 3, -1};
        int n = a.length;
        Path p = new TinyOnnx().input("a", OnnxProto.INT64, (long) n).input("b", OnnxProto.INT64, (long) n)
                .output("q", OnnxProto.INT64, (long) n).output("m", OnnxProto.INT64, (long) n).output("f", OnnxProto.INT64, (long) n)
                .node("Div", List.of("a", "b"), "q").node("Mod", List.of("a", "b"), "m")
                .node("Mod", List.of("a", "b"), "f", TinyOnnx.attrInt("fmod", 1)).write(dir, "div.onnx");
        List<Tensor> out = run(Onnx.load(p), Tensor.of(a, n), Tensor.of(b, n));
        long[] q = new long[n], m = new long[n], f = new long[n];
        for (int i = 0; i < n; i++) {
            q[i] = a[i] / b[i]; // Java's / truncates, as C and ONNX's integer Div
            m[i] = Math.floorMod(a[i], b[i]);
            f[i] = a[i] % b[i];
        }
        assertArrayEquals(q, out.get(0).toLongArray(), "Div");
        assertArrayEquals(m, out.get(1).toLongArray(), "Mod");
        assertArrayEquals(f, out.get(2).toLongArray(), "Mod fmod=1");
        // x / 0, which ONNX leaves undefined, is 0 rather than whatever the float path gives
        Path z = new TinyOnnx().input("a", OnnxProto.INT64, 2L).input("b", OnnxProto.INT64, 2L).output("q", OnnxProto.INT64, 2L)
                .node("Div", List.of("a", "b"), "q").write(dir, "zero.onnx");
        assertArrayEquals(new long[] {0, 0}, run(Onnx.load(z), Tensor.of(new long[] {7, -3}, 2), Tensor.of(new long[] {0, 0}, 2)).get(0).toLongArray());
    }

    @Test
    void initializersWhoseNamesCollideOnceSanitizedStayApart() throws Exception {
        Path p = new TinyOnnx().input("x", OnnxProto.FLOAT, 2L).output("y", OnnxProto.FLOAT, 2L)
                .floats("a.b", new float[] {1, 2}, 2).floats("a_b", new float[] {10, 20}, 2)
                .node("Add", List.of("x", "a.b"), "s").node("Mul", List.of("s", "a_b"), "y").write(dir, "names.onnx");
        Graph g = Onnx.load(p);
        assertEquals(2, g.params().size(), g.params().toString());
        assertArrayEquals(new float[] {(5 + 1) * 10, (6 + 2) * 20}, run(g, Tensor.of(new float[] {5, 6}, 2)).get(0).toFloatArray());
    }

    @Test
    void aConstantOfShapeBombIsRefusedBeforeItAllocates() throws Exception {
        Path p = new TinyOnnx().input("x", OnnxProto.FLOAT, 1L).output("y", OnnxProto.FLOAT, 100000L, 100000L, 100L)
                .longs("shape", new long[] {100000, 100000, 100}, 3).node("ConstantOfShape", List.of("shape"), "c")
                .node("Add", List.of("c", "x"), "y").write(dir, "bomb.onnx");
        RuntimeException e = assertThrows(RuntimeException.class, () -> Onnx.load(p, LoadLimits.forHeap(512L << 20), Map.of()));
        assertTrue(e instanceof OnnxException || e instanceof KilnFormatException, e.toString());
        assertTrue(e.getMessage().contains("ConstantOfShape"), e.getMessage());
    }
}
