package dev.kiln.tests.serialization;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.eager.SymInt;
import dev.kiln.eager.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.serialization.Artifact;
import dev.kiln.serialization.KilnReader;
import dev.kiln.serialization.KilnWriter;
import dev.kiln.serialization.LoadLimits;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Tracer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Symbolic reshape sizes (format 1.1) survive the JSON artifact and run at any batch and length. */
class SymbolicShapeArtifactTest {
    @Test
    void aSymbolicReshapeSavesLoadsAndRunsAtOtherSizes() {
        Function<Tensor[], Tensor> f = in -> {
            SymInt b = in[0].sizeSym(0), t = in[0].sizeSym(1);
            return in[0].reshape(b.times(t), SymInt.of(8)).softmax(1).reshape(b, t, SymInt.of(2), SymInt.of(4)).sum(3);
        };
        Graph g = Tracer.trace(f, new Tensor[] {Tensor.randn(2, 3, 8)},
                TraceOptions.builder().name("sym").dynamic(0, 0, "B").dynamic(0, 1, "T").build());
        byte[] json = KilnWriter.toJson(g);
        String text = new String(json, StandardCharsets.UTF_8);
        assertTrue(text.contains("\"B*T\""), text);
        assertTrue(text.contains("\"version\" : \"1.3\""), text);
        Artifact a = KilnReader.fromJson(json, LoadLimits.defaults());
        assertEquals(g.toString(), a.graph().toString());
        CompiledGraph c = CompiledGraph.compile(a.graph(), CompileOptions.of(OptLevel.O2));
        for (int[] bt : new int[][] {{1, 1}, {4, 9}}) {
            Tensor x = Tensor.randn(bt[0], bt[1], 8);
            assertArrayEquals(f.apply(new Tensor[] {x}).toFloatArray(), Tensor.wrap(c.run(List.of(x.data())).get(0)).toFloatArray(), 1e-6f);
        }
    }
}
