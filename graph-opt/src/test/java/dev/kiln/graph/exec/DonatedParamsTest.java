package dev.kiln.graph.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Value;
import dev.kiln.graph.opt.OptLevel;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A donated parameter's buffer receives the update that replaces it, and only a buffer the
 * caller handed over: never the graph's own data, never an input's.
 */
class DonatedParamsTest {
    private static final TensorType T = TensorType.of(DType.FLOAT32, 2, 3);

    private static Strided filled(float... v) {
        Strided s = Strided.allocate(DType.FLOAT32, new int[] {2, 3});
        System.arraycopy(v, 0, s.storage().f32(), 0, v.length);
        return s;
    }

    /** new_p = p - 0.5 * x (an SGD-like update): the last read of p computes its replacement. */
    private static Graph update(Strided pData) {
        GraphBuilder b = Graph.builder("sgd");
        Value x = b.addInput("x", T);
        Value p = b.addParam("p", T, pData);
        Value half = b.add(Op.MUL, Attrs.EMPTY, null, x, b.addConstant("half", TensorType.of(DType.FLOAT32), filledScalar(0.5f)));
        return b.output(b.add(Op.SUB, Attrs.EMPTY, null, p, half)).build();
    }

    private static Strided filledScalar(float v) {
        Strided s = Strided.allocate(DType.FLOAT32, new int[0]);
        s.storage().f32()[0] = v;
        return s;
    }

    private static final float[] P = {1, 2, 3, 4, 5, 6}, X = {2, 2, 2, 4, 4, 4}, WANT = {0, 1, 2, 2, 3, 4};

    @Test
    void theUpdateIsWrittenOverTheHandedOverBuffer() {
        Graph g = update(filled(P));
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2).withFreezeParams(false).withDonatedParams(Set.of("p")));
        Strided state = filled(P);
        Strided out = c.run(List.of(filled(X)), Map.of(Value.param("p"), state)).get(0);
        assertArrayEquals(WANT, out.storage().f32());
        assertSame(state.storage(), out.storage(), "the output reuses the donated buffer");
    }

    @Test
    void theGraphsOwnParameterAndTheCallersInputsAreNeverWritten() {
        Strided own = filled(P);
        Graph g = update(own);
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2).withFreezeParams(false).withDonatedParams(Set.of("p")));
        Strided out = c.run(List.of(filled(X))).get(0); // p not overridden: the graph's data
        assertArrayEquals(WANT, out.storage().f32());
        assertArrayEquals(P, own.storage().f32(), "the graph's parameter data");

        Strided shared = filled(P); // handed over as p but also passed as the input x
        Strided out2 = c.run(List.of(shared), Map.of(Value.param("p"), shared)).get(0);
        assertArrayEquals(new float[] {0.5f, 1, 1.5f, 2, 2.5f, 3}, out2.storage().f32());
        assertArrayEquals(P, shared.storage().f32(), "a buffer that is also an input");
    }

    @Test
    void donatingAFrozenOrUnknownParameterIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> CompileOptions.of(OptLevel.O2).withDonatedParams(Set.of("p")));
        Graph g = update(filled(P));
        assertThrows(RuntimeException.class, () -> CompiledGraph.compile(g,
                CompileOptions.of(OptLevel.O2).withFreezeParams(false).withDonatedParams(Set.of("nope"))));
    }
}
