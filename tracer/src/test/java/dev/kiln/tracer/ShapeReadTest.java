package dev.kiln.tracer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.LSTM;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphException;
import dev.kiln.graph.ReferenceInterpreter;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * A dynamic dim read into a Java int during a trace is an assumption like any other: strict
 * tracing rejects it with the dim, the line and the fix; lenient tracing guards it, so a run at
 * another size fails loudly (and TracedFunction retraces) instead of silently reusing this
 * trace's size. The reproducer of the issue: a loop bounded by x.shape(1) with T dynamic.
 */
class ShapeReadTest {
    /** h = x[:, 0]; for t in 1..T-1: h = h/2 + x[:, t] (the loop bound is a shape read). */
    static final Function<Tensor[], Tensor> DECAY = in -> {
        Tensor h = in[0].select(1, 0);
        for (int t = 1; t < in[0].shape(1); t++) h = h.mul(0.5).add(in[0].select(1, t));
        return h;
    };

    static TraceOptions dynamicT(boolean strict) { return TraceOptions.builder().name("decay").dynamic(0, 1, "T").strict(strict).build(); }

    @Test
    void strictTracingRejectsTheLoopBoundWithTheLineAndTheFix() {
        TraceException e = assertThrows(TraceException.class, () -> Tracer.trace(DECAY, new Tensor[] {Tensor.randn(2, 3)}, dynamicT(true)));
        String m = e.getMessage();
        assertTrue(m.contains("shape(1) of %x f32[2,T] reads the dynamic dim T (3 in this trace)"), m);
        assertTrue(m.contains("ShapeReadTest.java:"), "the Java line: " + m);
        assertTrue(m.contains("strict(false)") && m.contains("T == 3"), "the fix: " + m);
    }

    @Test
    void lenientTracingGuardsTheDimAndARunAtAnotherSizeFails() {
        Kiln.manualSeed(1);
        Graph g = Tracer.trace(DECAY, new Tensor[] {Tensor.randn(2, 3)}, dynamicT(false));
        assertEquals(1, g.guards().size(), g.toString());
        assertTrue(g.guards().get(0).description().startsWith("T == 3"), g.guards().get(0).description());
        assertTrue(g.toString().contains("T == 3"), "the guard is printed with the graph: " + g);
        Tensor x3 = Tensor.randn(2, 3), x7 = Tensor.randn(2, 7);
        assertArrayEquals(DECAY.apply(new Tensor[] {x3}).toFloatArray(),
                Tensor.wrap(ReferenceInterpreter.run(g, List.of(x3.data())).get(0)).toFloatArray());
        for (OptLevel level : OptLevel.values()) {
            CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(level));
            GraphException e = assertThrows(GraphException.class, () -> c.run(List.of(x7.data())), level.name());
            assertTrue(e.getMessage().contains("guard failed") && e.getMessage().contains("T == 3") && e.getMessage().contains("ShapeReadTest.java:"),
                    e.getMessage());
        }
    }

    @Test
    void tracedFunctionRetracesWhenTheShapeGuardFailsAndEqualsEager() {
        TracedFunction f = new TracedFunction(DECAY, dynamicT(false));
        for (int t : new int[] {3, 7, 3, 1}) {
            Tensor x = Tensor.randn(2, t);
            assertArrayEquals(DECAY.apply(new Tensor[] {x}).toFloatArray(), f.call(x).toFloatArray(), 1e-6f, "T=" + t);
        }
        assertTrue(f.retraceReasons().stream().anyMatch(r -> r.contains("T == 3")), f.retraceReasons().toString());
    }

    @Test
    void anLstmTracedWithADynamicSequenceLengthRunsAtEveryLength() {
        // the LSTM loops with ControlFlow.scan: one node, T stays symbolic, strict tracing passes
        Kiln.manualSeed(2);
        LSTM lstm = new LSTM(4, 5, 2, true, true, 0.0, true);
        TraceOptions o = TraceOptions.builder().name("lstm").dynamic(0, 0, "N").dynamic(0, 1, "T").build();
        Graph g = Tracer.trace(lstm, new Tensor[] {Tensor.randn(3, 6, 4)}, o);
        assertEquals("f32[N,T,10]", g.typeOf(g.outputs().get(0)).toString());
        assertEquals(0, g.guards().size(), g.toString());
        assertEquals(4, g.nodes().stream().filter(n -> n.op() == dev.kiln.backend.op.Op.SCAN).count(), "2 layers x 2 directions");
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2));
        for (int[] nt : new int[][] {{1, 1}, {5, 5}, {2, 50}}) {
            Tensor x = Tensor.randn(nt[0], nt[1], 4);
            float[] want = lstm.call(x).toFloatArray();
            assertArrayEquals(want, Tensor.wrap(c.run(List.of(x.data())).get(0)).toFloatArray(), 1e-5f, "O2 at T=" + nt[1]);
            assertArrayEquals(want, Tensor.wrap(ReferenceInterpreter.run(g, List.of(x.data())).get(0)).toFloatArray(), 1e-5f, "reference at T=" + nt[1]);
        }
    }

    @Test
    void alternatingLengthsUnderAShapeGuardTraceOncePerLength() {
        TracedFunction f = new TracedFunction(DECAY, dynamicT(false));
        for (int i = 0; i < 12; i++) {
            Tensor x = Tensor.randn(2, i % 2 == 0 ? 3 : 7);
            assertArrayEquals(DECAY.apply(new Tensor[] {x}).toFloatArray(), f.call(x).toFloatArray(), 1e-6f);
        }
        assertEquals(1, f.retraceReasons().size(), f.retraceReasons().toString());
        assertEquals(2, f.cachedGraphs());
    }

    @Test
    void aDetachedTracedValueIsStillTheTracedValue() {
        // detach() used to hand the tracer a stranger: its ops captured this run's values as constants
        Function<Tensor[], Tensor> f = in -> in[0].detach().mul(2.0).add(in[0]);
        Graph g = Tracer.trace(f, new Tensor[] {Tensor.randn(3, 2)}, TraceOptions.builder().dynamic(0, 0, "N").build());
        assertEquals("f32[N,2]", g.typeOf(g.outputs().get(0)).toString());
        assertTrue(!g.toString().contains("captured-constant"), g.toString());
        Tensor x = Tensor.randn(5, 2);
        assertArrayEquals(x.mul(3.0).toFloatArray(), Tensor.wrap(ReferenceInterpreter.run(g, List.of(x.data())).get(0)).toFloatArray(), 1e-6f);
        TraceException e = assertThrows(TraceException.class, () -> Tracer.trace(in -> in[0].reshape(in[0].detach().shape(0), 2),
                new Tensor[] {Tensor.randn(3, 2)}, TraceOptions.builder().dynamic(0, 0, "N").build()));
        assertTrue(e.getMessage().contains("reads the dynamic dim N"), e.getMessage());
    }

    @Test
    void aDynamicDimNeedsAnExampleOfAtLeastTwo() {
        TraceException e = assertThrows(TraceException.class, () -> Tracer.trace(in -> in[0].sum(new int[] {1}, true).add(in[0]),
                new Tensor[] {Tensor.randn(2, 1)}, dynamicT(true)));
        assertTrue(e.getMessage().contains("dynamic dim T (dim 1 of input 0) has size 1 in the example"), e.getMessage());
    }

    @Test
    void readingAStaticDimOrAnUntracedTensorIsNotAnAssumption() {
        Graph g = Tracer.trace(in -> in[0].reshape(-1, in[0].shape(1) * in[0].shape(2)), new Tensor[] {Tensor.randn(4, 2, 3)},
                TraceOptions.builder().dynamic(0, 0, "N").build());
        assertEquals(0, g.guards().size());
        assertEquals("f32[N,6]", g.typeOf(g.outputs().get(0)).toString());
    }
}
