package dev.kiln.tests.serialization;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.Kiln;
import dev.kiln.backend.Strided;
import dev.kiln.eager.ControlFlow;
import dev.kiln.eager.ControlFlow.ScanOutput;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.GRU;
import dev.kiln.eager.nn.LSTM;
import dev.kiln.eager.nn.Module;
import dev.kiln.eager.nn.RNN;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ReferenceInterpreter;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.serialization.KilnReader;
import dev.kiln.serialization.KilnWriter;
import dev.kiln.serialization.LoadLimits;
import dev.kiln.tracer.GraphModule;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Tracer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Every execution path of a graph with control flow against eager: the reference interpreter,
 * compiled at O0 and O2, reloaded from its JSON artifact and compiled, and the reloaded graph run
 * as a GraphModule (eager ops again), at sizes other than the traced ones, including length 1
 * and batch 64. The recurrent modules are traced with batch and sequence length both dynamic.
 */
class ControlFlowPathsTest {

    /** Each path's outputs for these inputs. */
    private static Map<String, List<Tensor>> paths(Graph g, Tensor... inputs) {
        Graph reloaded = KilnReader.fromJson(KilnWriter.toJson(g), LoadLimits.defaults()).graph();
        assertEquals(g.toString(), reloaded.toString(), "the artifact holds the same graph");
        List<Strided> data = new ArrayList<>();
        for (Tensor t : inputs) data.add(t.data());
        Map<String, List<Tensor>> out = new LinkedHashMap<>();
        out.put("reference", wrap(ReferenceInterpreter.run(g, data)));
        out.put("O0", wrap(CompiledGraph.compile(g, CompileOptions.of(OptLevel.O0).withVerify(true)).run(data)));
        out.put("O2", wrap(CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2).withVerify(true)).run(data)));
        out.put("reloaded O2", wrap(CompiledGraph.compile(reloaded, CompileOptions.of(OptLevel.O2)).run(data)));
        try (var ng = Autograd.noGrad()) {
            out.put("reloaded GraphModule", List.of(new GraphModule(reloaded).forwardAll(inputs)));
        }
        return out;
    }

    private static List<Tensor> wrap(List<Strided> s) { return s.stream().map(Tensor::wrap).toList(); }

    private static void agree(Tensor[] eager, Map<String, List<Tensor>> got, String where) {
        for (var e : got.entrySet()) {
            assertEquals(eager.length, e.getValue().size(), e.getKey());
            for (int i = 0; i < eager.length; i++) {
                assertArrayEquals(eager[i].data().shape(), e.getValue().get(i).data().shape(), e.getKey() + " output " + i + " " + where);
                assertArrayEquals(eager[i].toFloatArray(), e.getValue().get(i).toFloatArray(), 2e-5f, e.getKey() + " output " + i + " " + where);
            }
        }
    }

    private static void recurrent(Module m, int in) {
        m.eval();
        TraceOptions o = TraceOptions.builder().name("rnn").dynamic(0, 0, "N").dynamic(0, 1, "T").build();
        Graph g = Tracer.trace(m, new Tensor[] {Tensor.randn(3, 6, in)}, o);
        for (int[] nt : new int[][] {{1, 1}, {3, 17}, {64, 5}, {2, 50}}) {
            Tensor x = Tensor.randn(nt[0], nt[1], in);
            Tensor want;
            try (var ng = Autograd.noGrad()) {
                want = m.call(x);
            }
            agree(new Tensor[] {want}, paths(g, x), "at N=" + nt[0] + " T=" + nt[1]);
        }
    }

    @Test
    void lstmGruAndRnnRunAtEverySequenceLengthOnEveryPath() {
        Kiln.manualSeed(11);
        recurrent(new LSTM(5, 7, 2, true, true, 0.0, true), 5);
        recurrent(new GRU(5, 6, 1, true, true, 0.0, false), 5);
        recurrent(new RNN(5, 4, 2, "relu", true, true, 0.0, true), 5);
    }

    @Test
    void condWhileAndScanTogetherOnEveryPath() {
        Kiln.manualSeed(12);
        Tensor w = Tensor.randn(4, 4).mul(0.4);
        // scan an RNN over T; if the final state's sum is positive double it, else negate it; then
        // halve it until its largest magnitude is below 0.25, counting the halvings
        Function<Tensor[], Tensor[]> f = in -> {
            ScanOutput r = ControlFlow.scan((h, xt) -> {
                Tensor next = h[0].matmul(w).add(xt[0]).tanh();
                return ScanOutput.of(new Tensor[] {next}, next);
            }, new Tensor[] {in[0].select(1, 0).mul(0.0)}, new Tensor[] {in[0]}, 1);
            Tensor[] picked = ControlFlow.cond(r.carry(0).sum().gt(0.0), o -> new Tensor[] {o[0].mul(2.0)}, o -> new Tensor[] {o[0].neg()}, r.carry(0));
            Tensor[] halved = ControlFlow.whileLoop(s -> s[0].abs().max().ge(0.25), s -> new Tensor[] {s[0].mul(0.5), s[1].add(1.0)},
                    picked[0], picked[0].sum().mul(0.0));
            return new Tensor[] {r.y(0), halved[0], halved[1]};
        };
        TraceOptions o = TraceOptions.builder().name("mixed").dynamic(0, 0, "B").dynamic(0, 1, "T").build();
        Graph g = Tracer.traceMulti(f, new Tensor[] {Tensor.randn(2, 4, 4)}, o);
        for (int[] bt : new int[][] {{1, 1}, {3, 17}, {64, 9}}) {
            for (double scale : new double[] {1, -1}) {
                Tensor x = Tensor.randn(bt[0], bt[1], 4).mul(scale);
                agree(f.apply(new Tensor[] {x}), paths(g, x), "at B=" + bt[0] + " T=" + bt[1]);
            }
        }
    }
}
