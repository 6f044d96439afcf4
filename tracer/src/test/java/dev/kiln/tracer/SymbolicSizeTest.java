package dev.kiln.tracer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.eager.SymInt;
import dev.kiln.eager.Tensor;
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
 * Sizes users compute with keep the graph symbolic: {@code sizeSym} gives a dim as a
 * {@link SymInt}; products and exact quotients of them are reshape/view/expand sizes that the
 * graph records as symbolic (B*T, C/H), so one graph serves every batch and length.
 */
class SymbolicSizeTest {
    static final int C = 12, H = 3;

    static TraceOptions dynamicBT(boolean strict) {
        return TraceOptions.builder().name("sym").dynamic(0, 0, "B").dynamic(0, 1, "T").strict(strict).build();
    }

    /** [B, T, C] -> rows [B*T, C] -> per-row scale -> back to [B, T, H, C/H] -> [B, T, C]. */
    static final Function<Tensor[], Tensor> ROWS = in -> {
        Tensor x = in[0];
        SymInt b = x.sizeSym(0), t = x.sizeSym(1), c = x.sizeSym(2);
        Tensor rows = x.reshape(b.times(t), c).mul(2.0);                       // [B*T, C]
        Tensor heads = rows.view(b, t, SymInt.of(H), c.div(H));                 // [B, T, H, C/H]
        Tensor bias = Tensor.ones(1, 1, 1, C / H).expand(b, t, SymInt.of(H), SymInt.INFER);
        return heads.add(bias).reshape(b, t, SymInt.INFER);                     // [B, T, C]
    };

    @Test
    void productsAndQuotientsOfSymbolicSizesStaySymbolic() {
        Graph g = Tracer.trace(ROWS, new Tensor[] {Tensor.randn(2, 5, C)}, dynamicBT(true));
        assertEquals("f32[B,T,12]", g.typeOf(g.outputs().get(0)).toString());
        assertTrue(g.toString().contains("reshape(%x) {shape=[B*T,12]}"), g.toString());
        assertEquals(0, g.guards().size());
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2));
        for (int[] bt : new int[][] {{1, 1}, {3, 17}, {8, 64}}) {
            Tensor x = Tensor.randn(bt[0], bt[1], C);
            float[] eager = ROWS.apply(new Tensor[] {x}).toFloatArray();
            assertArrayEquals(eager, Tensor.wrap(c.run(List.of(x.data())).get(0)).toFloatArray(), "O2 at B=" + bt[0] + " T=" + bt[1]);
            assertArrayEquals(eager, Tensor.wrap(ReferenceInterpreter.run(g, List.of(x.data())).get(0)).toFloatArray(), "reference");
        }
    }

    @Test
    void creationFromSymbolicSizesStaysSymbolic() {
        Function<Tensor[], Tensor> f = in -> {
            Tensor x = in[0];
            SymInt b = x.sizeSym(0), t = x.sizeSym(1);
            Tensor positions = Tensor.arange(t).to(dev.kiln.backend.DType.FLOAT32);        // [T]: 0 .. T-1
            Tensor mask = Tensor.ones(t, t).tril();                                          // [T, T]
            Tensor seen = mask.sum(new int[] {1}, true);                                      // [T, 1]: 1 .. T
            return x.add(positions.unsqueeze(1)).add(Tensor.zeros(b, t, SymInt.of(C))).mul(seen);
        };
        Graph g = Tracer.trace(f, new Tensor[] {Tensor.randn(2, 5, C)}, dynamicBT(true));
        assertEquals(0, g.guards().size(), g.guards().toString());
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2));
        for (int[] bt : new int[][] {{1, 2}, {3, 17}, {4, 40}}) {
            Tensor x = Tensor.randn(bt[0], bt[1], C);
            assertArrayEquals(f.apply(new Tensor[] {x}).toFloatArray(), Tensor.wrap(c.run(List.of(x.data())).get(0)).toFloatArray(), "B=" + bt[0] + " T=" + bt[1]);
        }
        assertArrayEquals(new long[] {0, 1, 2, 3}, Tensor.arange(SymInt.of(4)).toLongArray());
        assertEquals("f32[2,3]", Tensor.zeros(SymInt.of(2), SymInt.of(3)).typeString());
    }

    @Test
    void narrowingToASymbolicLengthStaysSymbolic() {
        // a table of 50 positions cut to the sequence length T of the input, as a positional embedding is
        Tensor table = Tensor.randn(50, C);
        Function<Tensor[], Tensor> f = in -> in[0].add(table.narrow(0, 3, in[0].sizeSym(1)));
        Graph g = Tracer.trace(f, new Tensor[] {Tensor.randn(2, 5, C)}, dynamicBT(true));
        assertEquals("f32[B,T,12]", g.typeOf(g.outputs().get(0)).toString());
        assertEquals(0, g.guards().size(), g.guards().toString());
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2));
        for (int[] bt : new int[][] {{1, 2}, {3, 17}, {2, 47}}) {
            Tensor x = Tensor.randn(bt[0], bt[1], C);
            assertArrayEquals(f.apply(new Tensor[] {x}).toFloatArray(), Tensor.wrap(c.run(List.of(x.data())).get(0)).toFloatArray(), "B=" + bt[0] + " T=" + bt[1]);
        }
        assertArrayEquals(table.narrow(0, 3, 4).toFloatArray(), table.narrow(0, 3, SymInt.of(4)).toFloatArray(), "outside a trace: the view");
    }

    @Test
    void withoutATraceASymIntIsJustTheNumber() {
        Tensor x = Tensor.randn(2, 6, C);
        SymInt t = x.sizeSym(1);
        assertEquals(6, t.intValue());
        assertTrue(!t.isSymbolic());
        assertEquals(72, t.times(x.sizeSym(2)).intValue());
        assertArrayEquals(new int[] {12, 12}, x.reshape(x.sizeSym(0).times(t), SymInt.of(C)).shape());
        assertThrows(IllegalArgumentException.class, () -> t.div(5));
    }

    @Test
    void readingASymbolicSizeIntoJavaIsAShapeRead() {
        // the number T*C scales the values: a graph keeping 60 is wrong at any other T
        Function<Tensor[], Tensor> f = in -> in[0].mul((double) in[0].sizeSym(1).times(in[0].sizeSym(2)).intValue());
        TraceException e = assertThrows(TraceException.class, () -> Tracer.trace(f, new Tensor[] {Tensor.randn(2, 5, C)}, dynamicBT(true)));
        assertTrue(e.getMessage().contains("reads 12*T (60 in this trace)") && e.getMessage().contains("SymbolicSizeTest.java:"), e.getMessage());
        Graph g = Tracer.trace(f, new Tensor[] {Tensor.randn(2, 5, C)}, dynamicBT(false));
        assertTrue(g.guards().stream().anyMatch(gd -> gd.description().startsWith("T == 5")), g.guards().toString());
        assertThrows(GraphException.class, () -> ReferenceInterpreter.run(g, List.of(Tensor.randn(2, 6, C).data())));
    }

    @Test
    void aQuotientThatIsNotAMonomialIsAClearError() {
        Function<Tensor[], Tensor> f = in -> in[0].reshape(in[0].sizeSym(1).div(in[0].sizeSym(0)), SymInt.INFER);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tracer.trace(f, new Tensor[] {Tensor.randn(2, 4, C)}, dynamicBT(true)));
        assertTrue(e.getMessage().contains("T / B is not a product of the symbols"), e.getMessage());
    }
}
