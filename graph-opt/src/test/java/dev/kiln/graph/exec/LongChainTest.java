package dev.kiln.graph.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ReferenceInterpreter;
import dev.kiln.graph.Value;
import dev.kiln.graph.Verifier;
import dev.kiln.graph.opt.OptLevel;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A valid 100,000-node chain compiles and runs in seconds: the fusion planner, the passes, the
 * verifier and the memory plan are n log n or linear (the planner re-sorted the growing group at
 * every node, 60 s and more), and the fused loop's scratch is two blocks, not one per step (which
 * ran out of memory).
 */
class LongChainTest {
    static final int LENGTH = 100_000;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aHundredThousandNodeChainCompilesAndRuns() {
        GraphBuilder b = Graph.builder("chain");
        Value x = b.addInput("x", new TensorType(DType.FLOAT32, new Dim[] {Dim.symbol("N"), Dim.of(16)}));
        Value half = b.addConstant("half", new TensorType(DType.FLOAT32, new Dim[0]), scalar(0.5f));
        Value one = b.addConstant("one", new TensorType(DType.FLOAT32, new Dim[0]), scalar(1f));
        Value h = x;
        for (int i = 0; i < LENGTH; i++) h = b.add(i % 2 == 0 ? Op.MUL : Op.ADD, Attrs.EMPTY, "Chain.java:" + i, h, i % 2 == 0 ? half : one);
        Graph g = b.output(h).build();
        Verifier.verify(g);
        float[] in = new float[4 * 16];
        for (int i = 0; i < in.length; i++) in[i] = i - 30;
        List<Strided> inputs = List.of(Strided.contiguous(Storage.wrap(in), new int[] {4, 16}));
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2));
        float[] got = c.run(inputs).get(0).storage().f32();
        // x -> x/2 + 1 fifty thousand times converges to 2 (the fixed point) for every start
        for (float v : got) assertEquals(2f, v, 1e-6f);
        assertEquals(1, c.cachedPlans());
        float[] ref = ReferenceInterpreter.run(g, inputs).get(0).storage().f32();
        for (int i = 0; i < ref.length; i++) assertEquals(ref[i], got[i], 0f, "element " + i);
    }

    private static Strided scalar(float v) { return Strided.contiguous(Storage.wrap(new float[] {v}), new int[0]); }
}
