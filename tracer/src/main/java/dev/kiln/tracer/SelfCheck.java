package dev.kiln.tracer;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.eager.Dispatcher;
import dev.kiln.eager.OpObserver;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.random.Generator;
import dev.kiln.graph.Assumption;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphException;
import dev.kiln.graph.ReferenceInterpreter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * After a trace with dynamic dims, runs the function eagerly once more at another value of each
 * dynamic dim and compares it with the graph at that size: whatever the ledger missed (a size
 * baked in by Java arithmetic the tracer could not see, a library shortcut) shows up as a
 * disagreement, which fails the trace naming the first output that differs.
 *
 * <p>The new inputs are the example inputs repeated (or trimmed) along each dynamic dim, so values
 * such as token ids or class labels stay valid. Each symbol v becomes 2v, or v/2 when v is even
 * and at least 32 (to keep the cost down: the check costs one eager run and one reference
 * interpreter run at that size). It is skipped (logged at INFO) when the trace drew random
 * numbers or wrote parameters or buffers in place (a replay would draw other numbers or update
 * the state twice), when the function itself fails at the new size, and when the graph's own
 * guards reject the new size (it is then guarded, not silent). The function runs a second time,
 * so Java side effects happen twice; {@code traceStep} is not checked (its state is not replayable).
 */
final class SelfCheck {
    private SelfCheck() {}

    /** Relative tolerance against the largest magnitude of each output (float32 through other kernel paths). */
    static final double TOLERANCE = 1e-4;

    static void run(Function<Tensor[], Tensor[]> fn, Tensor[] examples, Graph g, TraceOptions o, Map<String, Long> symbols, long[] generatorBefore,
                    boolean wroteState) {
        if (symbols.isEmpty()) return;
        if (wroteState) {
            skipped(g, "the trace wrote parameters or buffers in place");
            return;
        }
        for (Assumption a : g.assumptions()) {
            if (a.kind().equals("rng")) {
                skipped(g, "the trace draws random numbers");
                return;
            }
        }
        Map<String, Long> second = new TreeMap<>();
        symbols.forEach((s, v) -> second.put(s, v >= 32 && v % 2 == 0 ? v / 2 : 2 * v));
        Tensor[] inputs = new Tensor[examples.length];
        for (int i = 0; i < examples.length; i++) inputs[i] = resized(examples[i], i, o, second);

        OpObserver prev = Dispatcher.setObserver(null);
        Generator gen = Generator.defaultGenerator();
        long[] after = gen.state();
        Tensor[] eager;
        try {
            gen.setState(generatorBefore); // the same draws as the trace made, should the function draw any
            eager = fn.apply(inputs); // in the caller's grad mode, as the trace ran: functions may use autograd
        } catch (RuntimeException e) {
            skipped(g, "the function itself fails at " + second + ": " + e.getMessage());
            return;
        } finally {
            gen.setState(after);
            Dispatcher.setObserver(prev);
        }
        List<Strided> in = new ArrayList<>();
        for (Tensor t : inputs) in.add(t.data());
        List<Strided> graph;
        try {
            graph = ReferenceInterpreter.run(g, in);
        } catch (GraphException e) {
            if (e.getMessage().contains("guard failed")) return; // guarded to the traced size: loud, not silent
            throw new TraceException(o.name + ": self-check: the graph traced at " + symbols + " fails at " + second + " where the eager"
                    + " function runs: " + e.getMessage() + ". " + HOW_TO_OPT_OUT, e);
        }
        for (int k = 0; k < eager.length && k < graph.size(); k++) compare(o, k, eager[k], graph.get(k), symbols, second);
    }

    private static final String HOW_TO_OPT_OUT = "(TraceOptions.selfCheck(false) turns this check off.)";

    private static void compare(TraceOptions o, int k, Tensor eager, Strided graph, Map<String, Long> traced, Map<String, Long> second) {
        String where = o.name + ": self-check: output " + k + " of the graph traced at " + traced + " differs from the eager function at "
                + second;
        if (!java.util.Arrays.equals(eager.data().shape(), graph.shape())) {
            throw new TraceException(where + ": shape " + java.util.Arrays.toString(graph.shape()) + " against eager "
                    + java.util.Arrays.toString(eager.data().shape()) + ". The trace baked in a size the ledger does not show; keep shape"
                    + " code symbolic. " + HOW_TO_OPT_OUT);
        }
        double[] e = Copy.toContiguous(eager.data(), DType.FLOAT64).storage().f64();
        double[] gv = Copy.toContiguous(graph, DType.FLOAT64).storage().f64();
        double scale = 0;
        for (double v : e) if (Double.isFinite(v)) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < e.length; i++) {
            // relative to the element, with a floor relative to the output's scale (sums in another order cancel differently)
            boolean same = Double.isNaN(e[i]) ? Double.isNaN(gv[i])
                    : e[i] == gv[i] || Math.abs(e[i] - gv[i]) <= TOLERANCE * Math.abs(e[i]) + 1e-6 * Math.max(scale, 1e-30);
            if (!same) {
                throw new TraceException(where + ": element " + i + " is " + gv[i] + " in the graph and " + e[i] + " in eager. The trace"
                        + " specialized on something the ledger does not show (a size read into Java, a value computed from one); keep"
                        + " that computation in tensor ops. " + HOW_TO_OPT_OUT);
            }
        }
    }

    /** The example repeated (tiled) or trimmed along its dynamic dims to the second sizes. */
    private static Tensor resized(Tensor ex, int index, TraceOptions o, Map<String, Long> sizes) {
        Tensor t = ex.detach();
        for (TraceOptions.DynamicDim d : o.dynamic) {
            if (d.input() != index) continue;
            int want = (int) (long) sizes.get(d.symbol()), have = t.data().shape()[d.dim()];
            if (have == 0) continue; // nothing to repeat (and Tracer.record refuses dynamic dims of size 0 or 1)
            if (want > have) {
                List<Tensor> copies = new ArrayList<>();
                for (int n = 0; n < want; n += have) copies.add(t);
                t = Tensor.cat(copies, d.dim());
            }
            t = t.narrow(d.dim(), 0, want).contiguous();
        }
        return t;
    }

    private static void skipped(Graph g, String why) {
        System.getLogger("dev.kiln.tracer").log(System.Logger.Level.INFO, g.name() + ": self-check skipped: " + why);
    }
}
