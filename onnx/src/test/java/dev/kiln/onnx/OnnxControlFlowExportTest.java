package dev.kiln.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.eager.ControlFlow;
import dev.kiln.eager.ControlFlow.ScanOutput;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.GRU;
import dev.kiln.eager.nn.LSTM;
import dev.kiln.eager.nn.Module;
import dev.kiln.graph.Graph;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Tracer;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Control flow exported to ONNX runs in ONNX Runtime as in Kiln: a scan as Scan (an LSTM or GRU
 * traced with batch and length dynamic, at lengths it was not traced at), a cond as If (both
 * branches), reverse scans with stacked outputs, a while loop as Loop.
 */
class OnnxControlFlowExportTest {

    private static void recurrent(Module m) throws Exception {
        m.eval();
        Graph g = Tracer.trace(m, new Tensor[] {Tensor.randn(3, 6, 5)}, TraceOptions.builder().name("rnn").dynamic(0, 0, "N").dynamic(0, 1, "T").build());
        byte[] model = Onnx.toBytes(g);
        for (int[] nt : new int[][] {{1, 1}, {4, 9}, {2, 40}}) {
            Tensor x = Tensor.randn(nt[0], nt[1], 5);
            assertArrayEquals(OnnxExportTest.eager(m, x).toFloatArray(), OnnxExportTest.ort(model, Map.of("x", x)), 1e-4f, "N=" + nt[0] + " T=" + nt[1]);
        }
    }

    @Test
    void lstmAndGruExportAsScanAndRunInOnnxRuntimeAtAnyLength() throws Exception {
        Kiln.manualSeed(41);
        recurrent(new LSTM(5, 7, 2, true, true, 0.0, true));
        recurrent(new GRU(5, 6, 1, true, true, 0.0, false));
    }

    @Test
    void condExportsAsIfAndReverseScansKeepTheirOrder() throws Exception {
        Kiln.manualSeed(42);
        Tensor w = Tensor.randn(4, 4).mul(0.5);
        Function<Tensor[], Tensor> f = in -> {
            ScanOutput r = ControlFlow.scan((h, xt) -> {
                Tensor next = h[0].matmul(w).add(xt[0]).tanh();
                return ScanOutput.of(new Tensor[] {next}, next, next.mul(2.0));
            }, new Tensor[] {in[0].select(1, 0).mul(0.0)}, new Tensor[] {in[0]}, 1, true);
            Tensor picked = ControlFlow.cond(r.carry(0).sum().gt(0.0), o -> new Tensor[] {o[0].add(o[1])}, o -> new Tensor[] {o[0].neg()},
                    r.y(0), r.y(1))[0];
            return picked.sum(1);
        };
        Graph g = Tracer.trace(f, new Tensor[] {Tensor.randn(2, 5, 4)}, TraceOptions.builder().name("mixed").dynamic(0, 0, "B").dynamic(0, 1, "T").build());
        byte[] model = Onnx.toBytes(g);
        int positive = 0;
        for (int i = 0; i < 12; i++) {
            Tensor x = Tensor.randn(1 + i % 3, 2 + i, 4);
            Tensor want;
            try (var ng = Autograd.noGrad()) {
                want = f.apply(new Tensor[] {x});
                positive += ControlFlow.scan((h, xt) -> ScanOutput.of(new Tensor[] {h[0].matmul(w).add(xt[0]).tanh()}),
                        new Tensor[] {x.select(1, 0).mul(0.0)}, new Tensor[] {x}, 1, true).carry(0).sum().item() > 0 ? 1 : 0;
            }
            assertArrayEquals(want.toFloatArray(), OnnxExportTest.ort(model, Map.of("x", x)), 1e-4f, "input " + i);
        }
        assertTrue(positive > 0 && positive < 12, "both branches were taken: " + positive + " of 12");
        // and back: the importer reads Scan and If as Kiln's scan and cond, T still symbolic
        java.nio.file.Path file = java.nio.file.Files.createTempFile("mixed", ".onnx");
        java.nio.file.Files.write(file, model);
        Graph back = Onnx.load(file);
        assertTrue(back.nodes().stream().anyMatch(nd -> nd.op() == dev.kiln.backend.op.Op.SCAN) && back.nodes().stream().anyMatch(nd -> nd.op() == dev.kiln.backend.op.Op.COND), back.toString());
        for (int i = 0; i < 6; i++) {
            Tensor x = Tensor.randn(2, 3 + 5 * i, 4);
            Tensor want;
            try (var ng = Autograd.noGrad()) {
                want = f.apply(new Tensor[] {x});
            }
            Tensor got = Tensor.wrap(dev.kiln.graph.ReferenceInterpreter.run(back, java.util.List.of(x.data())).get(0));
            assertArrayEquals(want.toFloatArray(), got.toFloatArray(), 1e-4f, "re-imported, input " + i);
        }
        java.nio.file.Files.delete(file);
    }

    @Test
    void whileLoopExportsAsLoopAndRunsAsManyIterationsAsEachInputNeeds() throws Exception {
        // halve x until its largest magnitude is below 1, counting the halvings (a captured scale too)
        Tensor scale = Tensor.full(0.5, 1);
        Function<Tensor[], Tensor> f = in -> {
            Tensor[] r = ControlFlow.whileLoop(s -> s[0].abs().max().ge(1.0), s -> new Tensor[] {s[0].mul(scale), s[1].add(1.0)},
                    in[0], in[0].sum().mul(0.0));
            return r[0].sum().add(r[1].mul(100.0)).reshape(1);
        };
        Graph g = Tracer.trace(f, new Tensor[] {Tensor.full(3.0, 2, 2)}, TraceOptions.builder().name("halve").dynamic(0, 0, "N").build());
        byte[] model = Onnx.toBytes(g);
        for (double start : new double[] {0.5, 3.0, 1000.0, -70.0}) {
            Tensor x = Tensor.full(start, 3, 2);
            Tensor want;
            try (var ng = Autograd.noGrad()) {
                want = f.apply(new Tensor[] {x});
            }
            assertArrayEquals(want.toFloatArray(), OnnxExportTest.ort(model, Map.of("x", x)), 1e-4f, "start " + start);
        }
        // imported back, the Loop is a while loop again
        java.nio.file.Path file = java.nio.file.Files.createTempFile("halve", ".onnx");
        java.nio.file.Files.write(file, model);
        Graph back = Onnx.load(file);
        java.nio.file.Files.delete(file);
        assertTrue(back.nodes().stream().anyMatch(nd -> nd.op() == dev.kiln.backend.op.Op.WHILE_LOOP), back.toString());
        for (double start : new double[] {0.25, 9.0, -300.0}) {
            Tensor x = Tensor.full(start, 4, 2);
            Tensor want;
            try (var ng = Autograd.noGrad()) {
                want = f.apply(new Tensor[] {x});
            }
            assertArrayEquals(want.toFloatArray(), Tensor.wrap(dev.kiln.graph.ReferenceInterpreter.run(back, java.util.List.of(x.data())).get(0)).toFloatArray(),
                    1e-4f, "re-imported, start " + start);
        }
    }
}
