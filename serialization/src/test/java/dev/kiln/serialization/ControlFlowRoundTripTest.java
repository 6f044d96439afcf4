package dev.kiln.serialization;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ReferenceInterpreter;
import dev.kiln.graph.Verifier;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Format 1.3: control-flow nodes (several outputs, nested bodies) load back as the same graph:
 * verified, the same text form, the same bytes when written again, and the same results from the
 * reference interpreter and the compiled O2 plan at two sizes of the symbolic dim.
 */
class ControlFlowRoundTripTest {
    @TempDir
    Path dir;

    @Test
    void aScanWithOneCarryTwoXsTwoYsAndCapturesRoundTrips() {
        ControlFlowModels.Model m = ControlFlowModels.rnn();
        Graph back = roundTrip(m, 3, 7);
        assertTrue(back.toString().contains("%1, %1.1, %1.2 = scan(%h0, %xs1, %xs2, fc.weight, %bias) {captures=2, carries=1, dim=0, reverse=false}"
                + " : f32[1,4], f32[T,1,4], f32[T]"), back.toString());
        assertTrue(back.toString().contains("sum(%1.1)"), back.toString());
        JsonNode scan = tree(m.graph()).get("nodes").get(0);
        assertEquals(3, scan.get("types").size());
        assertEquals(false, scan.has("type"));
        assertEquals("node:1.1", tree(m.graph()).get("nodes").get(1).get("inputs").get(0).asText());
        JsonNode body = scan.get("bodies").get(0);
        assertEquals("rnn_step", body.get("name").asText());
        assertEquals("base64", body.get("constants").get(0).get("data").get("encoding").asText());
        assertEquals(false, body.has("parameters"), "a body's weights are captured inputs");
    }

    @Test
    void aCondWithTwoBranchesRoundTrips() {
        ControlFlowModels.Model m = ControlFlowModels.cond();
        roundTrip(m, 2, 5);
        // both branches are taken on some inputs
        Graph back = KilnReader.fromJson(KilnWriter.toJson(m.graph()), LoadLimits.defaults()).graph();
        Strided pos = Strided.contiguous(dev.kiln.backend.Storage.wrap(new float[] {1, 2, 3}), new int[] {1, 3});
        Strided neg = Strided.contiguous(dev.kiln.backend.Storage.wrap(new float[] {-1, -2, -3}), new int[] {1, 3});
        assertEquals(6.0, first(ReferenceInterpreter.run(back, List.of(pos)).get(1)));
        assertEquals(6.0, first(ReferenceInterpreter.run(back, List.of(neg)).get(1)));
        assertEquals(0.0, first(ReferenceInterpreter.run(back, List.of(neg)).get(0)), "else: -x - 1 of -1 is 0");
    }

    @Test
    void aWhileLoopRoundTrips() {
        ControlFlowModels.Model m = ControlFlowModels.whileLoop();
        Graph back = roundTrip(m, 1, 4);
        Strided x = RandomGraphs.randn(new Random(1), 2, 3);
        assertEquals(3.0, first(ReferenceInterpreter.run(back, List.of(x)).get(1)), "three steps");
    }

    @Test
    void aScanNestedInAScanBodyRoundTrips() {
        ControlFlowModels.Model m = ControlFlowModels.nestedScan();
        Graph back = roundTrip(m, 2, 6);
        JsonNode inner = tree(m.graph()).at("/nodes/0/bodies/0/nodes/0");
        assertEquals("scan", inner.get("op").asText());
        assertEquals("row", inner.get("bodies").get(0).get("name").asText());
        assertTrue(back.toString().contains("        graph row(%a: f32[4], %row: f32[4]) -> (f32[4], f32[4])"), back.toString());
    }

    @Test
    void sidecarWeightsWithBodiesKeepBodyConstantsEmbedded() throws Exception {
        ControlFlowModels.Model m = ControlFlowModels.rnn();
        Path file = dir.resolve("rnn.kiln.json");
        KilnWriter.save(m.graph(), file, KilnWriter.Weights.SIDECAR);
        JsonNode doc = SmallModels.MAPPER.readTree(file.toFile());
        assertEquals("safetensors", doc.at("/parameters/0/data/encoding").asText());
        assertEquals("base64", doc.at("/nodes/0/bodies/0/constants/0/data/encoding").asText());
        // the sidecar holds the root's weights only
        assertEquals(List.of("fc.weight"), List.copyOf(Safetensors.read(dir.resolve("rnn.safetensors")).keySet()));
        Graph back = KilnReader.load(file);
        Verifier.verify(back);
        assertEquals(m.graph().toString(), back.toString());
        assertSameResults(m, m.graph(), back, 4);
    }

    @Test
    void theOpsetIsTheSmallestTheGraphNeeds() {
        assertEquals(2, tree(ControlFlowModels.rnn().graph()).get("opset").asInt());
        assertEquals(2, tree(ControlFlowModels.nestedScan().graph()).get("opset").asInt());
        // no new op: still opset 1, so a reader before 1.3 reads it (it ignores nothing, the nodes are as in 1.2)
        ObjectNode mlp = tree(SmallModels.mlp());
        assertEquals(1, mlp.get("opset").asInt());
        assertEquals(FormatVersion.CURRENT.toString(), mlp.get("version").asText());
        assertEquals("1.3", FormatVersion.CURRENT.toString());
    }

    @Test
    void bodiesNestUpToTheLimit() {
        Graph deep = ControlFlowModels.condChain(LoadLimits.DEFAULT_MAX_BODY_DEPTH);
        Graph back = KilnReader.fromJson(KilnWriter.toJson(deep), LoadLimits.defaults()).graph();
        assertEquals(deep.toString(), back.toString());
    }

    /** Writes, reads, verifies and compares; returns the graph read back. */
    static Graph roundTrip(ControlFlowModels.Model m, int... sizes) {
        Graph g = m.graph();
        Verifier.verify(g);
        byte[] json = KilnWriter.toJson(g);
        Artifact a = KilnReader.fromJson(json, LoadLimits.defaults());
        Graph back = a.graph();
        Verifier.verify(back);
        assertEquals("1.3", a.version().toString());
        assertEquals(g.toString(), back.toString());
        assertEquals(g.outputNames(), back.outputNames());
        assertEquals(new String(json, StandardCharsets.UTF_8), new String(KilnWriter.toJson(back), StandardCharsets.UTF_8), "written again, the same bytes");
        for (int size : sizes) assertSameResults(m, g, back, size);
        return back;
    }

    /** The interpreter gives bit-equal results on both graphs, and the compiled O2 plan of the loaded one agrees with it. */
    static void assertSameResults(ControlFlowModels.Model m, Graph g, Graph back, int size) {
        List<Strided> in = m.inputs().make(new Random(size), size);
        List<Strided> want = ReferenceInterpreter.run(g, in), got = ReferenceInterpreter.run(back, in);
        List<Strided> compiled = CompiledGraph.compile(back, CompileOptions.of(OptLevel.O2)).run(in);
        List<Strided> compiledOriginal = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2)).run(in);
        assertEquals(want.size(), compiled.size());
        for (int o = 0; o < want.size(); o++) {
            String what = g.name() + " output " + o + " at size " + size;
            assertArrayEquals(TensorBytes.toBytes(want.get(o)), TensorBytes.toBytes(got.get(o)), what + " (interpreter)");
            assertArrayEquals(TensorBytes.toBytes(compiledOriginal.get(o)), TensorBytes.toBytes(compiled.get(o)), what + " (compiled)");
            assertArrayEquals(want.get(o).shape(), compiled.get(o).shape(), what);
            double[] a = values(want.get(o)), b = values(compiled.get(o));
            for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 1e-5 * (1 + Math.abs(a[i])), what + " element " + i);
        }
    }

    static ObjectNode tree(Graph g) { return SmallModels.tree(g); }

    private static double[] values(Strided s) { return Copy.toContiguous(s, DType.FLOAT64).storage().f64(); }

    private static double first(Strided s) { return values(s)[0]; }
}
