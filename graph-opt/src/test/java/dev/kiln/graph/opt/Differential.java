package dev.kiln.graph.opt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphInput;
import dev.kiln.graph.ReferenceInterpreter;
import dev.kiln.graph.SymbolBindings;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Differential checks: an optimized or compiled graph must compute what the original computes. */
public final class Differential {
    private Differential() {}

    public static List<Strided> randomInputs(Graph g, Map<String, Long> symbols, long seed) {
        Random r = new Random(seed);
        SymbolBindings sym = SymbolBindings.of(symbols);
        List<Strided> in = new ArrayList<>();
        for (GraphInput gi : g.inputs()) {
            TensorType t = sym.concrete(gi.type());
            Strided s = Strided.allocate(t.dtype(), t.concreteShape());
            for (int i = 0; i < s.numel(); i++) {
                double v = switch (t.dtype()) {
                    case BOOL -> r.nextBoolean() ? 1 : 0;
                    case INT64 -> r.nextInt(7) - 3;
                    default -> r.nextGaussian() * 2;
                };
                s.storage().setDouble(i, v);
            }
            in.add(s);
        }
        return in;
    }

    public static void assertClose(List<Strided> expected, List<Strided> actual, double tol, String what) {
        assertTrue(expected.size() == actual.size(), what + ": output count");
        for (int o = 0; o < expected.size(); o++) {
            assertArrayEquals(expected.get(o).shape(), actual.get(o).shape(), what + ": shape of output " + o);
            double[] e = Copy.toContiguous(expected.get(o), DType.FLOAT64).storage().f64();
            double[] a = Copy.toContiguous(actual.get(o), DType.FLOAT64).storage().f64();
            for (int i = 0; i < e.length; i++) {
                boolean ok = Double.isNaN(e[i]) ? Double.isNaN(a[i]) : e[i] == a[i] || Math.abs(e[i] - a[i]) <= tol * Math.max(1, Math.abs(e[i]));
                assertTrue(ok, what + ": output " + o + " element " + i + " expected " + e[i] + " got " + a[i]);
            }
        }
    }

    /** Reference(original) == reference(optimized) == compiled at O1 and O2, for each symbol binding. */
    public static void check(Graph original, Graph optimized, List<Map<String, Long>> bindings, double tol) {
        CompiledGraph o1 = CompiledGraph.compile(original, CompileOptions.of(OptLevel.O1).withVerify(true));
        CompiledGraph o2 = CompiledGraph.compile(original, CompileOptions.of(OptLevel.O2).withVerify(true));
        long seed = 1;
        for (Map<String, Long> b : bindings) {
            List<Strided> in = randomInputs(original, b, seed++);
            List<Strided> expected = ReferenceInterpreter.run(original, in);
            assertClose(expected, ReferenceInterpreter.run(optimized, in), tol, "optimized graph " + b);
            assertClose(expected, o1.run(in), tol, "compiled O1 " + b);
            assertClose(expected, o2.run(in), tol, "compiled O2 " + b + "\n" + o2.explain(b));
        }
    }
}
