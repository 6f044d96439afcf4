package dev.kiln.graph.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Value;
import dev.kiln.graph.opt.OptLevel;
import java.util.List;
import org.junit.jupiter.api.Test;

/** In-place execution never writes over the caller's inputs or the graph's parameters and constants. */
class InPlaceSafetyTest {
    @Test
    void inputsAndParametersAreNeverOverwritten() {
        TensorType t = new TensorType(DType.FLOAT32, new Dim[] {Dim.symbol("N"), Dim.of(4)});
        GraphBuilder b = Graph.builder("g");
        Value x = b.addInput("x", t);
        Strided wData = Strided.allocate(DType.FLOAT32, new int[] {2, 4});
        float[] w = wData.storage().f32();
        for (int i = 0; i < w.length; i++) w[i] = i - 3;
        Value p = b.addParam("w", TensorType.of(DType.FLOAT32, 2, 4), wData);
        Value rx = b.add(Op.RELU, Attrs.EMPTY, null, x); // last use of the input
        Value rp = b.add(Op.EXP, Attrs.EMPTY, null, p); // last use of the parameter
        // log_softmax is a kernel step, so relu's result is an intermediate (not an output)
        Value sm = b.add(Op.LOG_SOFTMAX, Attrs.of("dim", 1), null, rx);
        Value out = b.add(Op.ADD, Attrs.EMPTY, null, sm, b.add(Op.SUM, Attrs.of("dims", new int[] {0}, "keepdim", true), null, rp));
        Graph g = b.output(out).build();
        for (boolean freeze : new boolean[] {false, true}) {
            CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2).withFreezeParams(freeze));
            Strided in = Strided.allocate(DType.FLOAT32, new int[] {2, 4});
            float[] xs = in.storage().f32();
            for (int i = 0; i < xs.length; i++) xs[i] = 2 - i;
            float[] before = xs.clone(), wBefore = w.clone();
            c.run(List.of(in));
            assertArrayEquals(before, xs, "the input must not change (freeze=" + freeze + ")");
            assertArrayEquals(wBefore, w, "the parameter must not change (freeze=" + freeze + ")");
        }
    }
}
