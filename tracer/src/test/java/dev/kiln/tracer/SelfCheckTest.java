package dev.kiln.tracer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ReferenceInterpreter;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * After a trace with dynamic dims the tracer replays the function at another size and compares:
 * a size baked in where the ledger cannot see it (here a read through {@code data()}, which the
 * shape hook does not report) is still caught.
 */
class SelfCheckTest {
    /** A mean over dim 1 divided by a size read past the tracer: the graph keeps the traced T. */
    static final Function<Tensor[], Tensor> HIDDEN_SIZE = in -> in[0].sum(1).div((double) in[0].data().shape()[1]);

    static TraceOptions dynamicT() { return TraceOptions.builder().name("hidden").dynamic(0, 1, "T").build(); }

    @Test
    void aSizeTheLedgerMissesFailsTheTraceNamingTheOutput() {
        TraceException e = assertThrows(TraceException.class, () -> Tracer.trace(HIDDEN_SIZE, new Tensor[] {Tensor.randn(2, 3)}, dynamicT()));
        assertTrue(e.getMessage().contains("self-check: output 0 of the graph traced at {T=3} differs from the eager function at {T=6}"),
                e.getMessage());
        assertTrue(e.getMessage().contains("selfCheck(false)"), e.getMessage());
    }

    @Test
    void turnedOffTheTraceIsSilentlyPinnedWhichIsWhyItIsOnByDefault() {
        Graph g = Tracer.trace(HIDDEN_SIZE, new Tensor[] {Tensor.randn(2, 3)}, dynamicT().toBuilder().selfCheck(false).build());
        Tensor x = Tensor.ones(2, 6);
        float got = Tensor.wrap(ReferenceInterpreter.run(g, List.of(x.data())).get(0)).toFloatArray()[0];
        assertEquals(2f, got, 0, "divides by the traced 3, not 6"); // eager gives 1
    }

    @Test
    void honestTracesPassAtEverySizeTheCheckPicks() {
        Kiln.manualSeed(5);
        Tensor w = Tensor.randn(5, 4);
        Function<Tensor[], Tensor> f = in -> F.layerNorm(in[0].matmul(w.t()), new int[] {5}, null, null, 1e-5).softmax(-1).mean(1);
        for (int t : new int[] {2, 3, 32, 40}) {
            Graph g = Tracer.trace(f, new Tensor[] {Tensor.randn(2, t, 4)},
                    TraceOptions.builder().dynamic(0, 0, "N").dynamic(0, 1, "T").params(java.util.Map.of("w", w)).build());
            assertEquals(0, g.guards().size());
        }
    }

    @Test
    void randomDrawsSkipTheCheckInsteadOfFailingIt() {
        Function<Tensor[], Tensor> f = in -> F.dropout(in[0], 0.5, true);
        Graph g = Tracer.trace(f, new Tensor[] {Tensor.randn(4, 3)}, TraceOptions.builder().dynamic(0, 0, "N").build());
        assertTrue(g.toString().contains("rng"), g.toString());
    }
}
