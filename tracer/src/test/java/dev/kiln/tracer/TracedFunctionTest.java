package dev.kiln.tracer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import dev.kiln.graph.Graph;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TracedFunctionTest {

    @Test
    void dynamicBatchReusesOneGraphAndStaticDimChangeRetracesWithAReason() {
        TracedFunction f = new TracedFunction(in -> in[0].mul(2.0).sum(new int[] {1}, false),
                TraceOptions.builder().name("double_sum").dynamic(0, 0, "N").build());
        for (int n : new int[] {7, 64, 300}) {
            Tensor x = Tensor.randn(n, 3);
            assertTrue(f.call(x).allclose(x.mul(2.0).sum(new int[] {1}, false), 1e-6, 1e-6));
        }
        assertEquals(1, f.cachedGraphs());
        f.call(Tensor.randn(2, 5));
        assertEquals(2, f.cachedGraphs());
        assertEquals(1, f.retraceReasons().size());
        assertTrue(f.retraceReasons().get(0).contains("input 0 changed f32[-1, 3] -> f32[-1, 5]"), f.retraceReasons().get(0));
        // a batch of 1 is traced static (size 1 broadcasts): a graph of its own, then reused
        Tensor one = Tensor.randn(1, 3);
        assertTrue(f.call(one).allclose(one.mul(2.0).sum(new int[] {1}, false), 1e-6, 1e-6));
        assertEquals(3, f.cachedGraphs());
        assertEquals("f32[1,3]", f.graphFor(one).inputs().get(0).type().toString());
        f.call(Tensor.randn(1, 3));
        assertEquals(3, f.cachedGraphs());
    }

    @Test
    void retraceStormHitsTheBudgetWithAllReasons() {
        TracedFunction f = new TracedFunction(in -> in[0].neg(), TraceOptions.builder().name("neg").build(), 2);
        f.call(Tensor.zeros(1));
        f.call(Tensor.zeros(2));
        f.call(Tensor.zeros(3));
        TraceException e = assertThrows(TraceException.class, () -> f.call(Tensor.zeros(4)));
        assertTrue(e.getMessage().contains("retrace budget of 2") && e.getMessage().contains("f32[3] -> f32[4]")
                || e.getMessage().contains("-> f32[4]"), e.getMessage());
    }

    @Test
    void failedGuardRetraces() {
        TracedFunction f = new TracedFunction(in -> in[0].sum().item() > 0 ? in[0].mul(2.0) : in[0].neg(),
                TraceOptions.builder().name("branchy").strict(false).build());
        assertEquals(4.0, f.call(Tensor.of(new float[] {1, 2})).toFloatArray()[1], 0);
        assertEquals(2.0, f.call(Tensor.of(new float[] {-1, -2})).toFloatArray()[1], 0);
        assertEquals(1, f.retraceReasons().size());
        assertTrue(f.retraceReasons().get(0).contains("guard failed"), f.retraceReasons().get(0));
    }

    @Test
    void checkTraceReportsDivergence() {
        Tensor[] holder = {Tensor.of(new float[] {1, 1})};
        java.util.function.Function<Tensor[], Tensor> f = in -> in[0].add(holder[0]);
        Graph g = Tracer.trace(f, new Tensor[] {Tensor.zeros(2)}, TraceOptions.defaults());
        TraceCheck.checkTrace(f, g, List.<Tensor[]>of(new Tensor[] {Tensor.ones(2)}), 1e-6, 1e-6);
        holder[0] = Tensor.of(new float[] {5, 5}); // eager now differs from the baked constant
        TraceException e = assertThrows(TraceException.class,
                () -> TraceCheck.checkTrace(f, g, List.<Tensor[]>of(new Tensor[] {Tensor.ones(2)}), 1e-6, 1e-6));
        assertTrue(e.getMessage().contains("2 of 2 elements differ") && e.getMessage().contains("captured-constant"), e.getMessage());
    }

    @Test
    void graphFunctionFineTunesWithTheSameGradientsAsEager() {
        Kiln.manualSeed(3);
        Tensor w = Tensor.randn(4, 3), b = Tensor.randn(4);
        Graph g = Tracer.trace(in -> in[0].matmul(w.t()).add(b).tanh(), new Tensor[] {Tensor.randn(2, 3)},
                TraceOptions.builder().dynamic(0, 0, "N").params(Map.of("w", w, "b", b)).build());
        GraphModule gm = new GraphModule(g);
        assertEquals(List.of("w", "b"), List.copyOf(gm.namedParameters().keySet()));
        Tensor x = Tensor.randn(5, 3);
        gm.call(x).sum().backward();
        Tensor we = w.detach().clone().requiresGrad(true), be = b.detach().clone().requiresGrad(true);
        x.matmul(we.t()).add(be).tanh().sum().backward();
        assertTrue(gm.namedParameters().get("w").grad().allclose(we.grad(), 1e-6, 1e-6));
        assertTrue(gm.namedParameters().get("b").grad().allclose(be.grad(), 1e-6, 1e-6));
    }
}
