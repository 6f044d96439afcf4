package dev.kiln.graph.exec;

import static dev.kiln.graph.opt.PassesTest.f32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Value;
import dev.kiln.graph.opt.OptLevel;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Direct convolutions finished by their epilogue in a compiled plan (ConvStep): the plan fuses
 * conv + activations (+ 2x2 max pool), and gives the same bits as the nodes run one by one (O0),
 * NaN inputs included (the pool's rule), at several batch sizes; it leaves a conv alone when an
 * intermediate value is needed elsewhere.
 */
class ConvEpilogueTest {
    private static final Attrs POOL = Attrs.of("kernel_size", new int[] {2, 2}, "stride", new int[] {2, 2});

    private static Attrs conv(int pad, int groups) { return Attrs.of("padding", new int[] {pad, pad}, "groups", groups); }

    /** LeNet's feature extractor: conv-relu-pool, then conv-gelu-pool. */
    static Graph lenetFeatures() {
        GraphBuilder b = Graph.builder("features");
        Value x = b.addInput("x", f32("N", 1, 28, 28));
        Value w1 = b.addParam("w1", f32(6, 1, 5, 5), CompiledGraphTest.randomParam(1, 6, 1, 5, 5));
        Value b1 = b.addParam("b1", f32(6), CompiledGraphTest.randomParam(2, 6));
        Value w2 = b.addParam("w2", f32(16, 6, 5, 5), CompiledGraphTest.randomParam(3, 16, 6, 5, 5));
        Value b2 = b.addParam("b2", f32(16), CompiledGraphTest.randomParam(4, 16));
        Value h = b.add(Op.MAX_POOL2D, POOL, "F.java:1", b.add(Op.RELU, Attrs.EMPTY, "F.java:1", b.add(Op.CONV2D, conv(2, 1), "F.java:1", x, w1, b1)));
        Value y = b.add(Op.MAX_POOL2D, POOL, "F.java:2",
                b.add(Op.GELU, Attrs.of("approximate", "none"), "F.java:2", b.add(Op.CONV2D, conv(0, 1), "F.java:2", h, w2, b2)));
        return b.output(y).build();
    }

    /** A pool straight after a conv on an odd 7x7 plane; a grouped conv with tanh then sigmoid; a relu also returned. */
    static Graph variants() {
        GraphBuilder b = Graph.builder("variants");
        Value x = b.addInput("x", f32("N", 4, 9, 9));
        Value w1 = b.addParam("w1", f32(5, 4, 3, 3), CompiledGraphTest.randomParam(5, 5, 4, 3, 3));
        Value w2 = b.addParam("w2", f32(6, 2, 3, 3), CompiledGraphTest.randomParam(6, 6, 2, 3, 3));
        Value w3 = b.addParam("w3", f32(3, 4, 1, 1), CompiledGraphTest.randomParam(7, 3, 4, 1, 1));
        Value pooled = b.add(Op.MAX_POOL2D, POOL, "V.java:1", b.add(Op.CONV2D, conv(0, 1), "V.java:1", x, w1));
        Value grouped = b.add(Op.SIGMOID, Attrs.EMPTY, "V.java:2",
                b.add(Op.TANH, Attrs.EMPTY, "V.java:2", b.add(Op.CONV2D, conv(1, 2), "V.java:2", x, w2)));
        Value relu = b.add(Op.RELU, Attrs.EMPTY, "V.java:3", b.add(Op.CONV2D, conv(0, 1), "V.java:3", x, w3));
        Value pooledRelu = b.add(Op.MAX_POOL2D, POOL, "V.java:4", relu);
        return b.output(pooled).output(grouped).output(relu).output(pooledRelu).build();
    }

    private static List<Strided> inputsWithNaNs(Graph g, long n, long seed) {
        List<Strided> in = dev.kiln.graph.opt.Differential.randomInputs(g, Map.of("N", n), seed);
        float[] x = in.get(0).storage().f32();
        for (int i = 0; i < x.length; i += 97) x[i] = Float.NaN;
        return in;
    }

    private static void sameBits(Graph g, String expectedKind) {
        CompiledGraph fused = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2).withVerify(true));
        CompiledGraph plain = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O0));
        String plan = fused.explain(Map.of("N", 64L));
        assertTrue(plan.contains(expectedKind), plan);
        for (long n : new long[] {1, 3, 64, 65}) {
            List<Strided> in = inputsWithNaNs(g, n, 11 + n);
            List<Strided> a = fused.run(in), b = plain.run(in);
            for (int i = 0; i < a.size(); i++) {
                assertArrayEquals(b.get(i).shape(), a.get(i).shape());
                float[] x = dev.kiln.backend.cpu.Copy.contiguousOf(a.get(i), DType.FLOAT32).storage().f32();
                float[] y = dev.kiln.backend.cpu.Copy.contiguousOf(b.get(i), DType.FLOAT32).storage().f32();
                for (int k = 0; k < x.length; k++) {
                    int at = k, out = i;
                    assertEquals(Float.floatToIntBits(y[k]), Float.floatToIntBits(x[k]), () -> g.name() + " N=" + n + " output " + out + " element " + at);
                }
            }
        }
    }

    @Test
    void convReluPoolIsOneStepWithTheBitsOfTheNodesOneByOne() {
        sameBits(lenetFeatures(), "conv+act+pool");
        String plan = CompiledGraph.compile(lenetFeatures(), CompileOptions.of(OptLevel.O2)).explain(Map.of("N", 64L));
        assertEquals(2, plan.split("conv\\+act\\+pool", -1).length - 1, plan);
    }

    @Test
    void poolsOnlyGroupedChainsAndEscapingValues() {
        Graph g = variants();
        sameBits(g, "conv+epilogue"); // the grouped conv with tanh and sigmoid
        String plan = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2)).explain(Map.of("N", 8L));
        assertTrue(plan.contains("conv+pool"), plan); // conv straight into the 7x7 -> 3x3 pool
        // the relu is an output as well as the pool's input: its conv keeps only the relu
        assertFalse(plan.contains("%" + reluNode(g) + " relu, %"), plan);
    }

    private static int reluNode(Graph g) {
        return g.nodes().stream().filter(n -> n.op() == Op.RELU).findFirst().orElseThrow().id();
    }
}
