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

    @Test
    void aGemmEpilogueWritesOverTheDonatedBufferItReads() {
        // new_buf = 0.5 * buf + x @ w: a momentum update fused into the weight-gradient product
        GraphBuilder b = Graph.builder("momentum");
        Value x = b.addInput("x", TensorType.of(DType.FLOAT32, 2, 4));
        Strided wData = Strided.allocate(DType.FLOAT32, new int[] {4, 3});
        float[] w = wData.storage().f32();
        for (int i = 0; i < w.length; i++) w[i] = i % 5 - 2;
        Value wp = b.addParam("w", TensorType.of(DType.FLOAT32, 4, 3), wData);
        Value buf = b.addParam("buf", T, filled(P));
        Value scaled = b.add(Op.MUL, Attrs.EMPTY, null, buf, b.addConstant("half", TensorType.of(DType.FLOAT32), filledScalar(0.5f)));
        Graph g = b.output(b.add(Op.ADD, Attrs.EMPTY, null, scaled, b.add(Op.MATMUL, Attrs.EMPTY, null, x, wp))).build();
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2).withFreezeParams(false).withDonatedParams(Set.of("buf")));
        Strided in = Strided.allocate(DType.FLOAT32, new int[] {2, 4});
        float[] xs = in.storage().f32();
        for (int i = 0; i < xs.length; i++) xs[i] = 1 + i;
        float[] want = new float[6];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                float dot = 0;
                for (int k = 0; k < 4; k++) dot += xs[i * 4 + k] * w[k * 3 + j];
                want[i * 3 + j] = 0.5f * P[i * 3 + j] + dot;
            }
        }
        float[] xBefore = xs.clone(), wBefore = w.clone();
        Strided state = filled(P);
        for (int round = 0; round < 2; round++) {
            Strided out = c.run(List.of(in), Map.of(Value.param("buf"), state)).get(0);
            assertArrayEquals(want, out.storage().f32(), 1e-5f, "round " + round);
            assertSame(state.storage(), out.storage(), "the update lands in the donated buffer");
            state = out; // fed back, as TracedStep does: the next round's expected value is 0.5 * this + product
            float[] prev = out.storage().f32().clone();
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 3; j++) {
                    float dot = 0;
                    for (int k = 0; k < 4; k++) dot += xs[i * 4 + k] * w[k * 3 + j];
                    want[i * 3 + j] = 0.5f * prev[i * 3 + j] + dot;
                }
            }
        }
        assertArrayEquals(xBefore, xs, "the input");
        assertArrayEquals(wBefore, w, "the undonated parameter");
        org.junit.jupiter.api.Assertions.assertTrue(c.explain(Map.of()).contains("in place over buf"), c.explain(Map.of()));
    }
}
