package dev.kiln.tracer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.eager.ControlFlow;
import dev.kiln.eager.ControlFlow.ScanOutput;
import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.GraphException;
import dev.kiln.graph.Node;
import dev.kiln.graph.ReferenceInterpreter;
import dev.kiln.graph.Value;
import dev.kiln.graph.Verifier;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * cond, whileLoop and scan: eagerly they run the lambdas; traced they are one node with
 * bodies, whose dynamic length stays symbolic. Every graph is run by the reference interpreter
 * and compiled at O0 and O2 (bodies optimized and planned once) and compared with eager at sizes
 * other than the trace's.
 */
class ControlFlowTest {
    /** The issue's reproducer, written with scan: h = 0.5 h + x_t over a dynamic T. */
    static final Function<Tensor[], Tensor> DECAY = in -> {
        Tensor x = in[0];
        ScanOutput r = ControlFlow.scan((h, xt) -> ScanOutput.of(new Tensor[] {h[0].mul(0.5).add(xt[0])}, h[0]),
                new Tensor[] {x.select(1, 0).mul(0.0)}, new Tensor[] {x}, 1);
        return r.carry(0).add(r.y(0).sum(1));
    };

    static TraceOptions dynamic(String name, int input, int dim, String symbol) {
        return TraceOptions.builder().name(name).dynamic(input, dim, symbol).build();
    }

    /** Eager, the reference interpreter, O0 and O2 agree on these inputs (to 1e-5 relative, float32). */
    static void agree(Function<Tensor[], Tensor[]> eager, Graph g, Tensor... inputs) {
        List<Strided> data = new ArrayList<>();
        for (Tensor t : inputs) data.add(t.data());
        Tensor[] want = eager.apply(inputs);
        List<List<Strided>> got = List.of(ReferenceInterpreter.run(g, data),
                CompiledGraph.compile(g, CompileOptions.of(OptLevel.O0).withVerify(true)).run(data),
                CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2).withVerify(true)).run(data));
        for (List<Strided> outs : got) {
            assertEquals(want.length, outs.size());
            for (int i = 0; i < want.length; i++) {
                double[] w = want[i].toDoubleArray(), o = Tensor.wrap(outs.get(i)).toDoubleArray();
                assertArrayEquals(want[i].data().shape(), outs.get(i).shape(), "output " + i + " shape");
                for (int k = 0; k < w.length; k++) assertEquals(w[k], o[k], 1e-5 * Math.max(1, Math.abs(w[k])), "output " + i + " element " + k);
            }
        }
    }

    @Test
    void scanKeepsTheSequenceLengthSymbolic() {
        Kiln.manualSeed(1);
        Graph g = Tracer.trace(DECAY, new Tensor[] {Tensor.randn(2, 3)}, dynamic("decay", 0, 1, "T"));
        assertEquals(0, g.guards().size(), g.toString());
        Node scan = g.nodes().stream().filter(n -> n.op() == Op.SCAN).findFirst().orElseThrow();
        assertEquals(List.of(new TensorType(DType.FLOAT32, new Dim[] {Dim.of(2)}), new TensorType(DType.FLOAT32, new Dim[] {Dim.of(2), Dim.symbol("T")})),
                scan.types());
        String text = g.toString();
        assertTrue(text.contains("%" + scan.id() + ", %" + scan.id() + ".1 = scan("), text);
        assertTrue(text.contains("    body 0:\n      graph scan_body(%carry0: f32[2], %x0: f32[2]"), text);
        for (int t : new int[] {1, 2, 3, 7, 50}) {
            Tensor x = Tensor.randn(2, t);
            agree(in -> new Tensor[] {DECAY.apply(in)}, g, x);
            // the closed form: h_T = sum_t 0.5^(T-1-t) x_t, independent of the scan
            double[] xs = x.toDoubleArray();
            for (int b = 0; b < 2; b++) {
                double h = 0, sumPrev = 0;
                for (int s = 0; s < t; s++) {
                    sumPrev += h;
                    h = 0.5 * h + xs[b * t + s];
                }
                double got = Tensor.wrap(ReferenceInterpreter.run(g, List.of(x.data())).get(0)).toDoubleArray()[b];
                assertEquals(h + sumPrev, got, 1e-5, "closed form at T=" + t);
            }
        }
    }

    @Test
    void reverseScanAndScanOverAnInnerDimWithCapturedWeights() {
        Kiln.manualSeed(2);
        Tensor w = Tensor.randn(4, 4).mul(0.3);
        Function<Tensor[], Tensor[]> rnn = in -> {
            ScanOutput r = ControlFlow.scan((h, xt) -> {
                Tensor next = h[0].matmul(w).add(xt[0]).tanh();
                return ScanOutput.of(new Tensor[] {next}, next, next.mul(2.0));
            }, new Tensor[] {in[1]}, new Tensor[] {in[0]}, 1, true);
            return new Tensor[] {r.carry(0), r.y(0), r.y(1)};
        };
        TraceOptions o = TraceOptions.builder().name("rnn").dynamic(0, 0, "B").dynamic(0, 1, "T").dynamic(1, 0, "B").build();
        Graph g = Tracer.traceMulti(rnn, new Tensor[] {Tensor.randn(3, 5, 4), Tensor.randn(3, 4)}, o);
        assertEquals("f32[B,T,4]", g.typeOf(g.outputs().get(1)).toString());
        for (int[] bt : new int[][] {{1, 1}, {3, 17}, {8, 40}}) agree(rnn, g, Tensor.randn(bt[0], bt[1], 4), Tensor.randn(bt[0], 4));
    }

    @Test
    void condRunsTheBranchThePredicateSelectsInEveryRun() {
        Tensor w = Tensor.randn(3, 3);
        Function<Tensor[], Tensor[]> f = in -> ControlFlow.cond(in[0].sum().gt(0.0),
                ops -> new Tensor[] {ops[0].matmul(w).relu(), ops[0]},
                ops -> new Tensor[] {ops[0].mul(-1.0), ops[0].exp()}, in[0]);
        Graph g = Tracer.traceMulti(f, new Tensor[] {Tensor.ones(4, 3)}, dynamic("branch", 0, 0, "N"));
        assertEquals(0, g.guards().size(), "the predicate is a graph value, not a guard:\n" + g);
        assertTrue(g.toString().contains("graph cond_else("), g.toString());
        agree(f, g, Tensor.ones(5, 3));
        agree(f, g, Tensor.ones(2, 3).mul(-1.0));
        agree(f, g, Tensor.randn(7, 3));
    }

    @Test
    void whileLoopRunsAsManyIterationsAsEachRunNeeds() {
        // halve x until its largest entry is below 1, counting the halvings
        Function<Tensor[], Tensor[]> f = in -> ControlFlow.whileLoop(
                s -> s[0].max().ge(1.0),
                s -> new Tensor[] {s[0].mul(0.5), s[1].add(1.0)},
                in[0], in[0].sum().mul(0.0));
        Graph g = Tracer.traceMulti(f, new Tensor[] {Tensor.full(3.0, 2, 2)}, dynamic("halve", 0, 0, "N"));
        for (double start : new double[] {0.5, 3.0, 1000.0}) {
            Tensor x = Tensor.full(start, 3, 2);
            agree(f, g, x);
            double expect = start < 1 ? 0 : Math.floor(Math.log(start) / Math.log(2)) + 1;
            assertEquals(expect, Tensor.wrap(ReferenceInterpreter.run(g, List.of(x.data())).get(1)).item(), "halvings of " + start);
        }
    }

    @Test
    void nestedScansAndAConditionInsideAStep() {
        Function<Tensor[], Tensor[]> f = in -> {
            ScanOutput outer = ControlFlow.scan((acc, row) -> {
                ScanOutput inner = ControlFlow.scan((a, v) -> {
                    Tensor[] picked = ControlFlow.cond(v[0].gt(0.0), o -> new Tensor[] {o[0].add(o[1])}, o -> new Tensor[] {o[0]}, a[0], v[0]);
                    return ScanOutput.of(picked);
                }, acc, new Tensor[] {row[0]}, 0);
                return ScanOutput.of(inner.carries(), inner.carry(0));
            }, new Tensor[] {in[0].sum().mul(0.0)}, new Tensor[] {in[0]}, 0);
            return new Tensor[] {outer.carry(0), outer.y(0)};
        };
        TraceOptions o = TraceOptions.builder().name("nested").dynamic(0, 0, "R").dynamic(0, 1, "C").build();
        Graph g = Tracer.traceMulti(f, new Tensor[] {Tensor.randn(3, 4)}, o);
        for (int[] rc : new int[][] {{1, 1}, {2, 9}, {6, 3}}) agree(f, g, Tensor.randn(rc[0], rc[1]));
    }

    /** A float64 RNN's weight [3,3], sequence [2,5,3] and initial state [2,3], all requiring grad (gradcheck sizes). */
    private static Tensor[] f64RnnInputs(long seed) {
        Kiln.manualSeed(seed);
        return new Tensor[] {Tensor.randn(3, 3).to(DType.FLOAT64).mul(0.4).requiresGrad(true),
            Tensor.randn(2, 5, 3).to(DType.FLOAT64).requiresGrad(true), Tensor.randn(2, 3).to(DType.FLOAT64).requiresGrad(true)};
    }

    @Test
    void gradientsFlowThroughScanAndTheTakenBranchEagerly() {
        Tensor[] wxh = f64RnnInputs(4);
        Tensor w = wxh[0], x = wxh[1], h0 = wxh[2];
        assertTrue(Autograd.gradcheck(in -> {
            ScanOutput r = ControlFlow.scan((h, xt) -> {
                Tensor next = h[0].matmul(in[2]).add(xt[0]).tanh();
                return ScanOutput.of(new Tensor[] {next}, next.mul(next));
            }, new Tensor[] {in[1]}, new Tensor[] {in[0]}, 1);
            return r.carry(0).sum().add(r.y(0).sum());
        }, x, h0, w));
        for (double sign : new double[] {1, -1}) {
            Tensor p = Tensor.randn(4).to(DType.FLOAT64).requiresGrad(true);
            assertTrue(Autograd.gradcheck(in -> ControlFlow.cond(Tensor.scalar(sign).gt(0.0),
                    o -> new Tensor[] {o[0].exp().sum()}, o -> new Tensor[] {o[0].mul(o[0]).sum()}, in[0])[0], p));
        }
    }

    @Test
    void aGradientThroughAScanInsideAPlainTraceIsAnErrorNotAConstant() {
        Tensor w = Tensor.randn(3, 3).requiresGrad(true);
        Function<Tensor[], Tensor> f = in -> {
            ScanOutput r = ControlFlow.scan((h, xt) -> ScanOutput.of(new Tensor[] {h[0].matmul(w).add(xt[0])}),
                    new Tensor[] {in[0].select(1, 0)}, new Tensor[] {in[0]}, 1);
            return Autograd.grad(r.carry(0).sum(), w)[0];
        };
        TraceException e = assertThrows(TraceException.class, () -> Tracer.trace(f, new Tensor[] {Tensor.randn(2, 4, 3)}, TraceOptions.builder().build()));
        assertTrue(e.getMessage().contains("computed inside a cond/whileLoop/scan"), e.getMessage());
    }

    @Test
    void theVerifierRejectsABodyWhoseCarryChangesType() {
        GraphBuilder body = Graph.builder("bad_body");
        Value c = body.addInput("carry0", TensorType.of(DType.FLOAT32, 3));
        Value x = body.addInput("x0", TensorType.of(DType.FLOAT32, 3));
        body.output(body.add(Op.SUM, Attrs.EMPTY, null, body.add(Op.ADD, Attrs.EMPTY, null, c, x)));
        Graph b = body.build();
        GraphBuilder outer = Graph.builder("outer");
        Value h = outer.addInput("h", TensorType.of(DType.FLOAT32, 3));
        Value xs = outer.addInput("xs", TensorType.of(DType.FLOAT32, 5, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> outer.addControl(Op.SCAN, Attrs.of("carries", 1), List.of(b), null, h, xs));
        assertTrue(e.getMessage().contains("carries [f32[]] but they came in as [f32[3]]"), e.getMessage());
        // a hand-built node with a wrong declared type is caught by the verifier
        GraphBuilder forged = Graph.builder("forged");
        Value fh = forged.addInput("h", TensorType.of(DType.FLOAT32, 3));
        Value fx = forged.addInput("xs", TensorType.of(DType.FLOAT32, 5, 3));
        Graph ok = okBody();
        forged.addNode(new Node(7, Op.SCAN, List.of(fh, fx), Op.SCAN.def().checkAttrs(Attrs.of("carries", 1)),
                List.of(TensorType.of(DType.FLOAT32, 4)), null, List.of(ok)));
        forged.output(Value.node(7));
        GraphException ge = assertThrows(GraphException.class, () -> Verifier.verify(forged.build()));
        assertTrue(ge.getMessage().contains("declared type f32[4] but the bodies give f32[3]"), ge.getMessage());
    }

    private static Graph okBody() {
        GraphBuilder body = Graph.builder("ok_body");
        Value c = body.addInput("carry0", TensorType.of(DType.FLOAT32, 3));
        Value x = body.addInput("x0", TensorType.of(DType.FLOAT32, 3));
        body.output(body.add(Op.ADD, Attrs.EMPTY, null, c, x));
        return body.build();
    }

    /** An RNN loss over a batch [B, T, 3]: scan with a captured weight, mean of the squared last state and all states. */
    private static Tensor rnnLoss(Tensor w, Tensor u, Tensor x) {
        ScanOutput r = ControlFlow.scan((h, xt) -> {
            Tensor next = h[0].matmul(w).add(xt[0].matmul(u)).tanh();
            return ScanOutput.of(new Tensor[] {next}, next);
        }, new Tensor[] {x.select(1, 0).mul(0.0)}, new Tensor[] {x}, 1);
        return r.carry(0).mul(r.carry(0)).mean().add(r.y(0).mean());
    }

    @Test
    void aTracedTrainingStepDifferentiatesAScanWithAReverseScanAndKeepsTheLengthSymbolic() {
        Kiln.manualSeed(21);
        Tensor w0 = Tensor.randn(3, 3).mul(0.5), u0 = Tensor.randn(3, 3).mul(0.5);
        Tensor w = w0.clone().requiresGrad(true), u = u0.clone().requiresGrad(true);
        var opt = dev.kiln.eager.optim.SGD.builder(List.of(w, u)).lr(0.1).momentum(0.9).build();
        Function<Tensor[], Tensor> step = in -> {
            opt.zeroGrad();
            Tensor loss = rnnLoss(w, u, in[0]);
            loss.backward();
            opt.step();
            return loss;
        };
        Tensor[] batches = {Tensor.randn(2, 4, 3), Tensor.randn(2, 4, 3), Tensor.randn(5, 9, 3), Tensor.randn(1, 1, 3), Tensor.randn(3, 30, 3)};
        TraceOptions o = TraceOptions.builder().name("step").params(java.util.Map.of("w", w, "u", u)).dynamic(0, 0, "B").dynamic(0, 1, "T").build();
        TracedStep ts = Tracer.traceStep(step, new Tensor[] {batches[0]}, o);
        Graph g = ts.graph();
        assertEquals(2, g.nodes().stream().filter(n -> n.op() == Op.SCAN).count(), "a forward and a reverse scan:\n" + g);
        assertEquals(0, g.guards().size(), g.toString());
        // the eager twin: the two steps on batch 0 that traceStep ran, then the rest, next to the traced step
        Tensor ew = w0.clone().requiresGrad(true), eu = u0.clone().requiresGrad(true);
        var eopt = dev.kiln.eager.optim.SGD.builder(List.of(ew, eu)).lr(0.1).momentum(0.9).build();
        for (int i = -1; i < batches.length; i++) {
            Tensor batch = batches[Math.max(i, 0)];
            eopt.zeroGrad();
            Tensor loss = rnnLoss(ew, eu, batch);
            loss.backward();
            eopt.step();
            if (i >= 1) {
                Tensor traced = ts.run(batch.clone());
                assertEquals(loss.item(), traced.item(), 1e-5, "loss at step " + i + ", T=" + batch.data().shape()[1]);
            }
        }
        assertArrayEquals(ew.toFloatArray(), ts.parameter("w").toFloatArray(), 1e-5f);
        assertArrayEquals(eu.toFloatArray(), ts.parameter("u").toFloatArray(), 1e-5f);
    }

    @Test
    void theReverseScanGradientEqualsTheUnrolledOneAndPassesGradcheck() {
        Tensor[] wxh = f64RnnInputs(22);
        Tensor w = wxh[0], x = wxh[1], h0 = wxh[2];
        ControlFlow.ScanFn fn = (h, xt) -> {
            Tensor next = h[0].matmul(w).add(xt[0]).tanh();
            return ScanOutput.of(new Tensor[] {next}, next.mul(next));
        };
        for (boolean reverse : new boolean[] {false, true}) {
            Function<Tensor[], Tensor> viaNode = in -> {
                Tensor[] r = dev.kiln.eager.autograd.ScanGradients.scan(new ControlFlow.Scan(fn, new Tensor[] {in[1]}, new Tensor[] {in[0]}, 1, reverse));
                return r[0].sum().add(r[1].mul(r[1]).sum());
            };
            Function<Tensor[], Tensor> unrolled = in -> {
                ScanOutput r = ControlFlow.scan(fn, new Tensor[] {in[1]}, new Tensor[] {in[0]}, 1, reverse);
                return r.carry(0).sum().add(r.y(0).mul(r.y(0)).sum());
            };
            Tensor[] a = Autograd.grad(new Tensor[] {viaNode.apply(new Tensor[] {x, h0})}, new Tensor[] {x, h0, w}, null, false, false, false);
            Tensor[] b = Autograd.grad(new Tensor[] {unrolled.apply(new Tensor[] {x, h0})}, new Tensor[] {x, h0, w}, null, false, false, false);
            for (int i = 0; i < 3; i++) assertArrayEquals(b[i].toDoubleArray(), a[i].toDoubleArray(), 1e-12, "input " + i + " reverse " + reverse);
            assertTrue(Autograd.gradcheck(viaNode, x, h0));
        }
    }

    @Test
    void condInATracedTrainingStepIsUnrolledAndLedgered() {
        Tensor w = Tensor.randn(3).requiresGrad(true);
        var opt = dev.kiln.eager.optim.SGD.builder(List.of(w)).lr(0.1).build();
        Function<Tensor[], Tensor> step = in -> {
            opt.zeroGrad();
            Tensor loss = ControlFlow.cond(in[0].sum().gt(0.0), a -> new Tensor[] {a[0].mul(w).sum()}, a -> new Tensor[] {a[0].mul(w).mul(w).sum()}, in[0])[0];
            loss.backward();
            opt.step();
            return loss;
        };
        TracedStep ts = Tracer.traceStep(step, new Tensor[] {Tensor.ones(3)},
                TraceOptions.builder().name("step").params(java.util.Map.of("w", w)).strict(false).build());
        assertTrue(ts.graph().assumptions().stream().anyMatch(a -> a.kind().equals("control-flow")), ts.graph().toString());
        assertTrue(ts.graph().nodes().stream().noneMatch(n -> n.op().def().isControlFlow()));
        assertEquals(1, ts.graph().guards().size(), "the branch taken is guarded");
    }

    @Test
    void aGraphModuleRunsControlFlowEagerlyDifferentiablyAndTracesBackToOneNode() {
        Kiln.manualSeed(9);
        dev.kiln.eager.nn.GRU gru = new dev.kiln.eager.nn.GRU(3, 4, 1, true, true, 0.0, false);
        TraceOptions o = TraceOptions.builder().name("gru").dynamic(0, 0, "N").dynamic(0, 1, "T").build();
        Graph g = Tracer.trace(gru, new Tensor[] {Tensor.randn(2, 5, 3)}, o);
        GraphModule m = new GraphModule(g);
        Tensor x = Tensor.randn(3, 7, 3);
        assertArrayEquals(gru.call(x).toFloatArray(), m.call(x).toFloatArray(), 1e-5f);
        // gradients of the loaded graph's weights through its scan equal the module's own
        gru.call(x).pow(2.0).sum().backward();
        m.call(x).pow(2.0).sum().backward();
        for (var e : gru.namedParameters().entrySet()) {
            Tensor mine = m.namedParameters().get(e.getKey());
            assertArrayEquals(e.getValue().grad().toFloatArray(), mine.grad().toFloatArray(), 1e-4f, e.getKey());
        }
        Graph again = Tracer.trace(m, new Tensor[] {Tensor.randn(2, 5, 3)}, o);
        assertEquals(1, again.nodes().stream().filter(n -> n.op() == Op.SCAN).count(), again.toString());
        Tensor y = Tensor.randn(4, 11, 3);
        assertArrayEquals(gru.call(y).toFloatArray(), Tensor.wrap(ReferenceInterpreter.run(again, List.of(y.data())).get(0)).toFloatArray(), 1e-5f);
    }

    @Test
    void aBranchReturningABodyConstantDoesNotLetLaterStepsWriteIntoIt() {
        // O2's captures pass moves the constant operand into both branches; the then-branch hands
        // that constant back, and the fused neg+add+exp after the cond (an intermediate) may write over its input
        Tensor w = Tensor.of(new float[] {1, 2, 3, 4}, 4);
        Function<Tensor[], Tensor[]> f = in -> {
            Tensor y = ControlFlow.cond(in[0].sum().gt(0.0), o -> new Tensor[] {o[0]}, o -> new Tensor[] {o[0].mul(2.0)}, w)[0];
            return new Tensor[] {y.neg().add(in[0]).exp().sum().reshape(1)};
        };
        Graph g = Tracer.traceMulti(f, new Tensor[] {Tensor.ones(4)}, TraceOptions.builder().name("constant").build());
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2));
        for (int run = 0; run < 3; run++) {
            Tensor x = Tensor.ones(4).mul(run + 1.0);
            assertArrayEquals(f.apply(new Tensor[] {x})[0].toFloatArray(), Tensor.wrap(c.run(List.of(x.data())).get(0)).toFloatArray(), 0f, "run " + run);
        }
    }

    @Test
    void anOutputThatIsTheBodysInputIsNotOverwrittenByLaterSteps() {
        // the then-branch hands back its operand, which lives in an arena slot of the O2 plan; the
        // neg that follows is its last reader and may write over that slot in place
        Kiln.manualSeed(31);
        Tensor w = Tensor.randn(4, 4), w2 = Tensor.randn(4, 4);
        Function<Tensor[], Tensor[]> f = in -> {
            Tensor a = in[0].matmul(w).relu();
            Tensor y = ControlFlow.cond(in[0].sum().gt(0.0), o -> new Tensor[] {o[0]}, o -> new Tensor[] {o[0].mul(2.0)}, a)[0];
            Tensor b = a.neg();
            return new Tensor[] {y.add(b.matmul(w2)), y};
        };
        Graph g = Tracer.traceMulti(f, new Tensor[] {Tensor.ones(3, 4)}, dynamic("alias", 0, 0, "N"));
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2));
        Tensor x1 = Tensor.ones(5, 4), x2 = Tensor.ones(5, 4).mul(3.0);
        List<Strided> first = c.run(List.of(x1.data()));
        float[] firstY = Tensor.wrap(first.get(1)).toFloatArray();
        List<Strided> second = c.run(List.of(x2.data()));
        assertArrayEquals(f.apply(new Tensor[] {x1})[0].toFloatArray(), Tensor.wrap(first.get(0)).toFloatArray(), 1e-5f);
        assertArrayEquals(firstY, Tensor.wrap(first.get(1)).toFloatArray(), 0f, "a later run must not write into an earlier run's output");
        assertArrayEquals(f.apply(new Tensor[] {x2})[1].toFloatArray(), Tensor.wrap(second.get(1)).toFloatArray(), 1e-5f);
        agree(f, g, Tensor.randn(6, 4));
    }

    @Test
    void impureBodiesAreRefusedByName() {
        // an in-place write to a captured tensor (batch norm's running statistics in train mode do this)
        Tensor stats = Tensor.zeros(3);
        TraceException write = assertThrows(TraceException.class, () -> Tracer.trace(in -> ControlFlow.scan((h, xt) -> {
            stats.add_(xt[0].sum(0));
            return ScanOutput.of(new Tensor[] {h[0].add(xt[0])});
        }, new Tensor[] {in[0].select(1, 0)}, new Tensor[] {in[0]}, 1).carry(0), new Tensor[] {Tensor.randn(2, 4, 3)}, TraceOptions.builder().build()));
        assertTrue(write.getMessage().contains("an input of a cond/whileLoop/scan body"), write.getMessage());
        // a tensor an untaken branch stored outside is no graph value
        Tensor[] leaked = new Tensor[1];
        TraceException leak = assertThrows(TraceException.class, () -> Tracer.trace(in -> {
            Tensor y = ControlFlow.cond(in[0].sum().gt(1e9), o -> new Tensor[] {o[0]}, o -> {
                leaked[0] = o[0].exp();
                return new Tensor[] {o[0].neg()};
            }, in[0])[0];
            return y.add(leaked[0]);
        }, new Tensor[] {Tensor.randn(2, 3)}, TraceOptions.builder().build()));
        assertTrue(leak.getMessage().contains("computed inside a cond/whileLoop/scan"), leak.getMessage());
    }

    @Test
    void aTracedTrainingStepRefusesRandomDrawsInsideAScanStep() {
        Tensor w = Tensor.randn(3, 3).requiresGrad(true);
        var opt = dev.kiln.eager.optim.SGD.builder(List.of(w)).lr(0.1).build();
        Function<Tensor[], Tensor> step = in -> {
            opt.zeroGrad();
            ScanOutput r = ControlFlow.scan((h, xt) -> ScanOutput.of(new Tensor[] {dev.kiln.eager.nn.functional.F.dropout(h[0].matmul(w).add(xt[0]), 0.5, true)}),
                    new Tensor[] {in[0].select(1, 0).mul(0.0)}, new Tensor[] {in[0]}, 1);
            Tensor loss = r.carry(0).sum();
            loss.backward();
            opt.step();
            return loss;
        };
        Exception e = assertThrows(Exception.class, () -> Tracer.traceStep(step, new Tensor[] {Tensor.randn(2, 4, 3)},
                TraceOptions.builder().params(java.util.Map.of("w", w)).build()));
        assertTrue(e.getMessage().contains("draws random numbers"), e.getMessage());
    }

    @Test
    void aGuardInsideABodyFailsNamingTheNodeAndTracedFunctionRetracesOnIt() {
        // a lenient trace of a step that reads its slice's dynamic width into Java: the guard lives in the body
        Function<Tensor[], Tensor> f = in -> ControlFlow.scan((h, xt) -> {
            int width = xt[0].shape(1);
            return ScanOutput.of(new Tensor[] {h[0].add(xt[0].sum(1).mul(1.0 / width))});
        }, new Tensor[] {in[0].select(1, 0).sum(1)}, new Tensor[] {in[0]}, 1).carry(0);
        TraceOptions o = TraceOptions.builder().name("guarded").dynamic(0, 2, "W").strict(false).build();
        Graph g = Tracer.trace(f, new Tensor[] {Tensor.randn(2, 3, 4)}, o);
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2));
        GraphException e = assertThrows(GraphException.class, () -> c.run(List.of(Tensor.randn(2, 3, 5).data())));
        assertTrue(e.getMessage().contains("scan %") && e.getMessage().contains("guard failed"), e.getMessage());
        TracedFunction tf = new TracedFunction(f, o);
        for (int w : new int[] {4, 5, 4, 5}) {
            Tensor x = Tensor.randn(2, 3, w);
            assertArrayEquals(f.apply(new Tensor[] {x}).toFloatArray(), tf.call(x).toFloatArray(), 1e-5f, "W=" + w);
        }
        assertEquals(1, tf.retraceReasons().size(), "one retrace per width, not per call: " + tf.retraceReasons());
    }
}
