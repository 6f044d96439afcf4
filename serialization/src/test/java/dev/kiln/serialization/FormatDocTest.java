package dev.kiln.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Value;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** docs/format.md stays true: its example loads, and it is exactly what the writer produces for that graph. */
class FormatDocTest {
    static final Path DOC = Path.of("..", "docs", "format.md");

    static String example() throws Exception {
        String md = Files.readString(DOC);
        int start = md.indexOf("```json\n") + "```json\n".length();
        return md.substring(start, md.indexOf("```", start));
    }

    @Test
    void theExampleLoadsAndRoundTrips() throws Exception {
        byte[] doc = example().getBytes(StandardCharsets.UTF_8);
        Graph g = KilnReader.fromJson(doc, LoadLimits.defaults()).graph();
        assertEquals("affine", g.name());
        assertTrue(g.toString().contains("softmax(%2) {dim=1} : f32[N,2]"), g.toString());
        // the producer carries the build's version, which the page does not track
        String written = new String(KilnWriter.toJson(g), StandardCharsets.UTF_8).replace("\"producer\" : \"" + KilnWriter.PRODUCER + "\"", "\"producer\" : \"kiln 0.1.0\"");
        assertEquals(new String(doc, StandardCharsets.UTF_8).strip(), written.strip());
    }

    /** The page's control-flow example: a decaying running sum over T, {@code scan(s0, xs) {carries=1}}, and the sum of its ys. */
    static Graph decay() {
        GraphBuilder body = Graph.builder("step");
        Value s = body.addInput("s", TensorType.of(DType.FLOAT32, 2));
        Value x = body.addInput("x", TensorType.of(DType.FLOAT32, 2));
        Value half = body.addConstant("half", TensorType.of(DType.FLOAT32), Strided.contiguous(Storage.wrap(new float[] {0.5f}), new int[0]));
        Value y = body.add(Op.ADD, Attrs.EMPTY, null, s, x);
        Graph step = body.output(body.add(Op.MUL, Attrs.EMPTY, null, y, half), "s").output(y, "y").build();
        GraphBuilder b = Graph.builder("decay");
        Value xs = b.addInput("xs", new TensorType(DType.FLOAT32, new Dim[] {Dim.symbol("T"), Dim.of(2)}));
        Value s0 = b.addInput("s0", TensorType.of(DType.FLOAT32, 2));
        List<Value> out = b.addControl(Op.SCAN, Attrs.of("carries", 1), List.of(step), "Decay.java:12", s0, xs);
        Value total = b.add(Op.SUM, Attrs.of("dims", new int[] {0}), null, out.get(1));
        return b.output(out.get(0), "state").output(total, "total").build();
    }

    @Test
    void theControlFlowExampleIsWhatTheWriterWrites() throws Exception {
        String md = Files.readString(DOC);
        assertTrue(md.contains("```text\n" + decay() + "```"), "the page shows the text form of FormatDocTest.decay()");
        int first = md.indexOf("```json\n"), start = md.indexOf("```json\n", first + 1) + "```json\n".length();
        String block = md.substring(start, md.indexOf("```", start)).strip();
        assertTrue(block.startsWith("\"nodes\" : "), block);
        JsonNode shown = SmallModels.MAPPER.readTree(block.substring("\"nodes\" : ".length()));
        JsonNode written = SmallModels.tree(decay());
        assertEquals(written.get("nodes"), shown);
        assertEquals(2, written.get("opset").asInt());
    }

    @Test
    void thePageNamesTheCurrentVersionAndEveryOpsetAfterTheFirst() throws Exception {
        String md = Files.readString(DOC);
        assertTrue(md.startsWith("# The Kiln graph format (`*.kiln.json`), version " + FormatVersion.CURRENT + "\n"), md.substring(0, 80));
        for (int opset = 2; opset <= FormatVersion.OPSET; opset++) {
            String prefix = "| " + opset + " | ";
            String row = md.lines().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow(() -> new AssertionError("a new opset needs its row on the page: " + prefix));
            List<String> listed = java.util.regex.Pattern.compile("`([a-z_0-9]+)`").matcher(row).results().map(m -> m.group(1)).toList();
            assertEquals(Opsets.introducedIn(opset).stream().map(Op::opName).toList(), listed, "opset " + opset);
        }
        String next = "| " + (FormatVersion.OPSET + 1) + " | ";
        assertTrue(md.lines().noneMatch(l -> l.startsWith(next)), "the page lists an opset this reader does not know");
    }

    @Test
    void theSchemaIsJsonAndNamesTheCurrentMajor() throws Exception {
        JsonNode schema = SmallModels.MAPPER.readTree(Files.readString(Path.of("..", "docs", "kiln-graph.schema.json")));
        assertEquals("kiln-graph", schema.at("/properties/format/const").asText());
        assertTrue(schema.at("/properties/version/pattern").asText().startsWith("^" + FormatVersion.CURRENT.major() + "\\."));
        assertTrue(schema.at("/$id").asText().endsWith("-" + FormatVersion.CURRENT + ".schema.json"), schema.at("/$id").asText());
        // the schema's reference syntax is the reader's: one spelling per value
        java.util.regex.Pattern ref = java.util.regex.Pattern.compile(schema.at("/$defs/ref/pattern").asText());
        for (String ok : new String[] {"node:7", "node:7.1", "node:12.10", "input:x", "const:c0"}) assertTrue(ref.matcher(ok).matches(), ok);
        for (String bad : new String[] {"node:7.0", "node:07", "node:7.01", "node:0", "node:7.", "node:"}) assertTrue(!ref.matcher(bad).matches(), bad);
        List<String> control = java.util.Arrays.stream(Op.values()).filter(o -> o.def().isControlFlow()).map(Op::opName).toList();
        assertEquals(control, SmallModels.MAPPER.convertValue(schema.at("/$defs/controlOp/enum"), List.class));
    }
}
