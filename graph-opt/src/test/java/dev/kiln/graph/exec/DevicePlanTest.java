package dev.kiln.graph.exec;

import static dev.kiln.graph.opt.PassesTest.f32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.CpuKernels;
import dev.kiln.backend.device.DeviceExecutor;
import dev.kiln.backend.device.ElementwiseChain;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.GraphException;
import dev.kiln.graph.ReferenceInterpreter;
import dev.kiln.graph.Value;
import dev.kiln.graph.opt.Differential;
import dev.kiln.graph.opt.OptLevel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Compiled graphs on a device ({@link CompileOptions#withDevice}), here an executor that runs the
 * CPU kernels and records what it was asked to do: the same results as the reference
 * interpreter, fused groups handed over as chains, views kept on the host, errors and guards
 * as on the CPU plan.
 */
class DevicePlanTest {
    /** Runs everything with the CPU kernels, fused chains through the default one-op-at-a-time path. */
    static final class RecordingExecutor implements DeviceExecutor {
        final List<String> calls = new ArrayList<>();

        @Override
        public String deviceName() { return "rec:0"; }

        @Override
        public boolean supports(Op op) { return true; }

        @Override
        public Strided run(Op op, Strided[] inputs, Attrs attrs, TensorType out) {
            if (op.def().isView()) throw new AssertionError("view op " + op.opName() + " was sent to the device");
            calls.add(op.opName());
            return CpuKernels.run(op, inputs, attrs, out);
        }

        @Override
        public Strided runFused(ElementwiseChain chain, Strided[] inputs, int[] shape) {
            StringBuilder sb = new StringBuilder("fused[");
            for (ElementwiseChain.Step s : chain.steps()) sb.append(s.op().opName()).append(' ');
            calls.add(sb.toString().trim() + "]");
            List<String> before = new ArrayList<>(calls);
            Strided r = DeviceExecutor.super.runFused(chain, inputs, shape);
            calls.clear();
            calls.addAll(before); // the chain's own op-by-op calls are an implementation detail here
            return r;
        }
    }

    @Test
    void aFusedPlanOnADeviceMatchesTheReference() {
        Graph g = CompiledGraphTest.mixed();
        RecordingExecutor ex = new RecordingExecutor();
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2).withDevice(ex));
        for (long n : new long[] {1, 5, 64}) {
            List<Strided> in = Differential.randomInputs(g, Map.of("N", n), n);
            Differential.assertClose(ReferenceInterpreter.run(g, in), c.run(in), 1e-5, "device N=" + n);
        }
        assertTrue(ex.calls.contains("matmul") && ex.calls.contains("addmm"), ex.calls.toString());
        assertTrue(ex.calls.stream().anyMatch(s -> s.startsWith("fused[") && s.contains("gelu")), ex.calls.toString());
        String text = c.explain(Map.of("N", 8L));
        assertTrue(text.startsWith("plan mixed on rec:0:") && text.contains("gemm+fused"), text);
    }

    @Test
    void withoutFusionEveryNodeIsOneCall() {
        Graph g = CompiledGraphTest.mixed();
        RecordingExecutor ex = new RecordingExecutor();
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O1).withDevice(ex));
        List<Strided> in = Differential.randomInputs(g, Map.of("N", 4L), 4);
        Differential.assertClose(ReferenceInterpreter.run(g, in), c.run(in), 1e-5, "device O1");
        assertTrue(ex.calls.stream().noneMatch(s -> s.startsWith("fused[")), ex.calls.toString());
    }

    @Test
    void viewsStayOnTheHostAndFailuresNameTheNodeAndTheDevice() {
        GraphBuilder b = Graph.builder("viewy");
        Value x = b.addInput("x", f32(2, 6));
        Value i = b.addInput("i", new dev.kiln.backend.shape.TensorType(DType.INT64, new dev.kiln.backend.shape.Dim[] {dev.kiln.backend.shape.Dim.of(1)}));
        Value r = b.add(Op.RESHAPE, Attrs.of("shape", new int[] {3, 4}), "V.java:1", b.add(Op.EXP, Attrs.EMPTY, "V.java:1", x));
        b.output(b.add(Op.INDEX_SELECT, Attrs.of("dim", 0), "V.java:2", r, i));
        Graph g = b.build();
        RecordingExecutor ex = new RecordingExecutor();
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2).withDevice(ex));
        Strided idx = Strided.allocate(DType.INT64, new int[] {1});
        idx.storage().i64()[0] = 2;
        Strided xs = CompiledGraphTest.randomParam(3, 2, 6);
        Differential.assertClose(ReferenceInterpreter.run(g, List.of(xs, idx)), c.run(List.of(xs, idx)), 1e-6, "views");
        idx.storage().i64()[0] = 7;
        GraphException e = assertThrows(GraphException.class, () -> c.run(List.of(xs, idx)));
        assertTrue(e.getMessage().contains("index_select %") && e.getMessage().contains("V.java:2") && e.getMessage().contains("rec:0"),
                e.getMessage());
        IllegalStateException planned = assertThrows(IllegalStateException.class, () -> c.peakBytes(Map.of()));
        assertTrue(planned.getMessage().contains("CPU-only"), planned.getMessage());
    }

    @Test
    void guardsAreCheckedOnTheDeviceToo() {
        GraphBuilder b = Graph.builder("guarded");
        Value x = b.addInput("x", f32(2));
        Value s = b.add(Op.SUM, Attrs.EMPTY, "G.java:1", x);
        b.addGuard(new dev.kiln.graph.Guard("item", "sum(x) > 0", b.add(Op.GT, Attrs.EMPTY, "G.java:2", s,
                b.addConstant("z", f32(), dev.kiln.graph.opt.PassesTest.scalar(0))), new double[] {1}, "G.java:2"));
        b.output(b.add(Op.NEG, Attrs.EMPTY, "G.java:3", x));
        CompiledGraph c = CompiledGraph.compile(b.build(), CompileOptions.of(OptLevel.O2).withDevice(new RecordingExecutor()));
        Strided ok = Strided.allocate(DType.FLOAT32, new int[] {2});
        ok.storage().f32()[0] = 3;
        assertEquals(-3f, c.run(List.of(ok)).get(0).storage().f32()[0]);
        GraphException e = assertThrows(GraphException.class, () -> c.run(List.of(Strided.allocate(DType.FLOAT32, new int[] {2}))));
        assertTrue(e.getMessage().contains("guard failed") && e.getMessage().contains("G.java:2"), e.getMessage());
    }
}
