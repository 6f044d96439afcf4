package dev.kiln.tracer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.backend.Strided;
import dev.kiln.eager.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphException;
import dev.kiln.graph.ReferenceInterpreter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The tracer hazards, one case per pain point of torch.jit.trace and friends: a Java branch
 * or loop on a tensor value, a literal batch size, a captured global, random ops, train vs
 * eval, batch size changes. Each shows Kiln's answer: an error naming the line, a guard, a
 * ledger entry, or a correct symbolic graph.
 */
class TracerHazardsTest {

    private static Tensor mlp(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2) {
        Tensor h = x.matmul(w1.t()).add(b1).relu();
        return h.matmul(w2.t()).add(b2).logSoftmax(1);
    }

    @Test
    void dynamicBatchGraphMatchesEagerForManyBatchSizes() {
        Kiln.manualSeed(1);
        Tensor w1 = Tensor.randn(16, 8), b1 = Tensor.randn(16), w2 = Tensor.randn(4, 16), b2 = Tensor.randn(4);
        TraceOptions o = TraceOptions.builder().name("mlp").dynamic(0, 0, "N")
                .params(Map.of("fc1.weight", w1, "fc1.bias", b1, "fc2.weight", w2, "fc2.bias", b2)).build();
        Graph g = Tracer.trace(in -> mlp(in[0], w1, b1, w2, b2), new Tensor[] {Tensor.randn(5, 8)}, o);
        String text = g.toString();
        assertTrue(text.startsWith("graph mlp(%x: f32[N,8]) -> (f32[N,4])"), text);
        assertTrue(text.contains("param fc1.weight: f32[16,8]"), text);
        assertTrue(text.contains("TracerHazardsTest.java:"), "nodes carry the Java source line:\n" + text);
        for (int n : new int[] {1, 7, 64}) {
            Tensor x = Tensor.randn(n, 8);
            List<Strided> out = ReferenceInterpreter.run(g, List.of(x.data()));
            Tensor expected = mlp(x, w1, b1, w2, b2);
            assertTrue(Tensor.wrap(out.get(0)).allclose(expected, 1e-6, 1e-6), "batch " + n + ": " + Tensor.wrap(out.get(0)) + " vs " + expected);
        }
    }

    @Test
    void literalBatchInReshapeIsReportedWithTheLineAndAFix() {
        TraceOptions o = TraceOptions.builder().dynamic(0, 0, "N").build();
        TraceException e = assertThrows(TraceException.class,
                () -> Tracer.trace(in -> in[0].reshape(4, 6), new Tensor[] {Tensor.randn(4, 2, 3)}, o));
        assertTrue(e.getMessage().contains("TracerHazardsTest.java:"), e.getMessage());
        assertTrue(e.getMessage().contains("reshape(-1"), e.getMessage());
        // the fix works
        Graph g = Tracer.trace(in -> in[0].reshape(-1, 6), new Tensor[] {Tensor.randn(4, 2, 3)}, o);
        assertEquals("f32[N,6]", g.typeOf(g.outputs().get(0)).toString());
    }

    @Test
    void expandToTheBatchSizeIsFlaggedInTheLedger() {
        TraceOptions o = TraceOptions.builder().dynamic(0, 0, "N").build();
        java.util.function.Function<Tensor[], Tensor> f = in -> in[0].sum().reshape(1, 1).expand(in[0].shape(0), 3);
        // strict: reading the dynamic batch into a Java int is itself the error
        TraceException e = assertThrows(TraceException.class, () -> Tracer.trace(f, new Tensor[] {Tensor.randn(5, 3)}, o));
        assertTrue(e.getMessage().contains("shape(0) of %x f32[N,3] reads the dynamic dim N (5 in this trace)")
                && e.getMessage().contains("TracerHazardsTest.java:"), e.getMessage());
        // lenient: the read is guarded, and the literal size is in the ledger
        Graph g = Tracer.trace(f, new Tensor[] {Tensor.randn(5, 3)}, o.toBuilder().strict(false).build());
        assertTrue(g.toString().contains("literal-size: expand shape=[5, 3] contains 5, the trace-time value of N"), g.toString());
        assertEquals(1, g.guards().size(), g.toString());
        Graph ok = Tracer.trace(in -> in[0].sum().reshape(1, 1).expandAs(in[0]), new Tensor[] {Tensor.randn(5, 3)}, o);
        assertTrue(!ok.toString().contains("literal-size"), ok.toString());
        assertEquals("f32[N,3]", ok.typeOf(ok.outputs().get(0)).toString());
    }

    @Test
    void dataDependentBranchFailsStrictAndGuardsLenient() {
        java.util.function.Function<Tensor[], Tensor> f = in -> in[0].sum().item() > 0 ? in[0].mul(2.0) : in[0].neg();
        TraceException e = assertThrows(TraceException.class,
                () -> Tracer.trace(f, new Tensor[] {Tensor.of(new float[] {1, 2})}, TraceOptions.defaults()));
        assertTrue(e.getMessage().contains("item()") && e.getMessage().contains("TracerHazardsTest.java:"), e.getMessage());

        Graph g = Tracer.trace(f, new Tensor[] {Tensor.of(new float[] {1, 2})}, TraceOptions.builder().strict(false).build());
        assertEquals(1, g.guards().size());
        Strided ok = ReferenceInterpreter.run(g, List.of(Tensor.of(new float[] {1, 2}).data())).get(0);
        assertEquals(4.0, Tensor.wrap(ok).toFloatArray()[1], 0);
        GraphException ge = assertThrows(GraphException.class,
                () -> ReferenceInterpreter.run(g, List.of(Tensor.of(new float[] {-1, -2}).data())));
        assertTrue(ge.getMessage().contains("guard failed") && ge.getMessage().contains("TracerHazardsTest.java:"), ge.getMessage());
    }

    @Test
    void tensorCreatedWithTheBatchSizeIsReportedAsAPinningConstant() {
        TraceOptions o = TraceOptions.builder().dynamic(0, 0, "N").build();
        java.util.function.Function<Tensor[], Tensor> f = in -> in[0].add(Tensor.zeros(in[0].shape(0), 2));
        TraceException strict = assertThrows(TraceException.class, () -> Tracer.trace(f, new Tensor[] {Tensor.randn(3, 2)}, o));
        assertTrue(strict.getMessage().contains("reads the dynamic dim N"), strict.getMessage());
        // lenient tracing lets the read through as a guard; the constant it made still pins the batch
        TraceException e = assertThrows(TraceException.class,
                () -> Tracer.trace(f, new Tensor[] {Tensor.randn(3, 2)}, o.toBuilder().strict(false).build()));
        assertTrue(e.getMessage().contains("captured tensor %c0 f32[3,2]") && e.getMessage().contains("Tensor.zerosLike"), e.getMessage());
    }

    @Test
    void loopCountDependingOnDataIsADataDependentRead() {
        java.util.function.Function<Tensor[], Tensor> halveUntilSmall = in -> {
            Tensor x = in[0];
            while (x.abs().amax().item() > 1) x = x.mul(0.5); // the trip count depends on the data
            return x;
        };
        TraceException e = assertThrows(TraceException.class,
                () -> Tracer.trace(halveUntilSmall, new Tensor[] {Tensor.of(new float[] {5, -3})}, TraceOptions.defaults()));
        assertTrue(e.getMessage().contains("TracerHazardsTest.java:"), e.getMessage());
        // lenient: each read becomes a guard; another input that needs a different count fails loudly
        Graph g = Tracer.trace(halveUntilSmall, new Tensor[] {Tensor.of(new float[] {5, -3})}, TraceOptions.builder().strict(false).build());
        assertEquals(4, g.guards().size(), g.toString());
        assertThrows(GraphException.class, () -> ReferenceInterpreter.run(g, List.of(Tensor.of(new float[] {50, 1}).data())));
        Strided same = ReferenceInterpreter.run(g, List.of(Tensor.of(new float[] {5, -3}).data())).get(0);
        assertEquals(0.625, Tensor.wrap(same).toFloatArray()[0], 0);
    }

    @Test
    void labelValidationInLossesIsNotADataDependentRead() {
        Graph g = Tracer.trace(in -> dev.kiln.eager.nn.functional.F.crossEntropy(in[0], in[1]),
                new Tensor[] {Tensor.randn(4, 3), Tensor.of(new long[] {0, 2, 1, 2})},
                TraceOptions.builder().dynamic(0, 0, "N").dynamic(1, 0, "N").build());
        assertEquals(0, g.guards().size());
        Tensor x = Tensor.randn(6, 3), y = Tensor.of(new long[] {1, 1, 0, 2, 0, 1});
        Strided got = ReferenceInterpreter.run(g, List.of(x.data(), y.data())).get(0);
        assertTrue(Tensor.wrap(got).allclose(dev.kiln.eager.nn.functional.F.crossEntropy(x, y), 1e-6, 1e-6));
    }

    @Test
    void randomOpsAreRecordedDrawsInTheLedger() {
        Graph g = Tracer.trace(in -> dev.kiln.eager.nn.functional.F.dropout(in[0], 0.5, true), new Tensor[] {Tensor.ones(4, 4)},
                TraceOptions.defaults());
        assertTrue(g.toString().contains("rng: rand_like"), g.toString());
    }

    @Test
    void capturedTensorIsAConstantInTheLedger() {
        Tensor global = Tensor.of(new float[] {1, 2, 3});
        Graph g = Tracer.trace(in -> in[0].add(global), new Tensor[] {Tensor.zeros(3)}, TraceOptions.defaults());
        assertEquals(1, g.constants().size());
        assertTrue(g.toString().contains("captured-constant"), g.toString());
        global.add_(10.0); // the graph holds a snapshot, as documented
        Strided out = ReferenceInterpreter.run(g, List.of(Tensor.zeros(3).data())).get(0);
        assertEquals(1.0, Tensor.wrap(out).toFloatArray()[0], 0);
    }
}
