package dev.kiln.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.backend.DType;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Value;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The malformed-artifact corpus: each entry edits a valid artifact in one way and names the
 * message fragment (usually the JSON path) its rejection must carry.
 */
class MalformedArtifactTest {
    record Case(String category, String name, Consumer<ObjectNode> edit, String expected) {}

    static final List<Case> CASES = new ArrayList<>();

    private static void add(String category, String name, Consumer<ObjectNode> edit, String expected) {
        CASES.add(new Case(category, name, edit, expected));
    }

    private static ObjectNode obj(ObjectNode root, String array, int i) { return (ObjectNode) root.withArray(array).get(i); }

    private static ObjectNode data(ObjectNode root, int param) { return (ObjectNode) obj(root, "parameters", param).get("data"); }

    static {
        // header and versioning
        add("version", "newer major", r -> r.put("version", "2.0"), "version: file format version 2.0 is newer than this reader's " + FormatVersion.CURRENT);
        add("version", "not major.minor", r -> r.put("version", "1"), "version: '1' is not a version");
        add("version", "wrong format name", r -> r.put("format", "onnx"), "format: 'onnx' is not kiln-graph");
        add("version", "newer opset", r -> r.put("opset", 99), "opset: opset 99 is not supported");
        add("version", "missing version", r -> r.remove("version"), "version: is required");
        add("version", "unknown root field", r -> r.put("exec", "rm -rf /"), "exec: unknown field");
        // structure and types
        add("structure", "inputs not an array", r -> r.put("inputs", "x"), "inputs: must be an array, got a string");
        add("structure", "name with control char", r -> r.put("name", "a\u001bb"), "name: name 'a?b' contains");
        add("structure", "dim as float", r -> obj(r, "inputs", 0).withArray("shape").set(1, SmallModels.MAPPER.getNodeFactory().numberNode(4.5)), "inputs[0].shape[1]: a dim must be an integer");
        add("structure", "negative dim", r -> obj(r, "inputs", 0).withArray("shape").set(1, SmallModels.MAPPER.getNodeFactory().numberNode(-4)), "inputs[0].shape[1]: negative dimension -4");
        add("structure", "bad symbol", r -> obj(r, "inputs", 0).withArray("shape").set(0, SmallModels.MAPPER.getNodeFactory().textNode("N+1")), "inputs[0].shape[0]: dim 'N+1' is not");
        add("structure", "unknown dtype", r -> obj(r, "inputs", 0).put("dtype", "f16"), "inputs[0].dtype: unknown dtype 'f16'");
        add("structure", "rank over limit", r -> { ArrayNode s = obj(r, "inputs", 0).putArray("shape"); for (int i = 0; i < 40; i++) s.add(1); }, "inputs[0].shape: rank 40 exceeds");
        add("structure", "no outputs", r -> r.putArray("outputs"), "outputs: a graph needs at least one output");
        add("structure", "output type mismatch", r -> ((ObjectNode) obj(r, "outputs", 0).get("type")).put("dtype", "f64"), "outputs[0].type: declared f64[N,3]");
        add("structure", "metadata not string", r -> ((ObjectNode) r.get("metadata")).put("author", 3), "metadata.author: must be a string");
        // data lengths and checksums
        add("lengths", "base64 one char short", r -> data(r, 0).put("base64", data(r, 0).get("base64").asText().substring(1)), "parameters[0].data.base64: has 63 characters but f32[4, 3] (48 bytes) needs 64");
        add("lengths", "base64 longer", r -> data(r, 0).put("base64", data(r, 0).get("base64").asText() + "AAAA"), "parameters[0].data.base64: has 68 characters");
        add("lengths", "shape grown, data not", r -> obj(r, "parameters", 0).withArray("shape").set(0, SmallModels.MAPPER.getNodeFactory().numberNode(5)), "parameters[0].data.base64: has 64 characters but f32[5, 3] (60 bytes) needs 80");
        add("lengths", "invalid base64 chars", r -> data(r, 0).put("base64", "!" + data(r, 0).get("base64").asText().substring(1)), "parameters[0].data.base64: is not valid base64");
        add("lengths", "sha256 mismatch", r -> data(r, 1).put("sha256", "0".repeat(64)), "parameters[1].data.sha256: checksum mismatch");
        add("lengths", "sha256 not hex", r -> data(r, 1).put("sha256", "xyz"), "parameters[1].data.sha256: must be 64 lower-case hex digits");
        add("lengths", "unknown encoding", r -> data(r, 1).put("encoding", "pickle"), "parameters[1].data.encoding: unknown encoding 'pickle'");
        add("lengths", "symbolic param dim", r -> obj(r, "parameters", 0).withArray("shape").set(0, SmallModels.MAPPER.getNodeFactory().textNode("N")), "parameters[0].shape[0]: a stored tensor's dims must be integers");
        // size bombs: rejected from the declared shape, before any allocation
        add("size bomb", "product overflows", r -> { ArrayNode s = obj(r, "parameters", 0).putArray("shape"); for (int i = 0; i < 3; i++) s.add(1 << 30); s.add(1024); }, "parameters[0].shape: product of [1073741824, 1073741824, 1073741824, 1024] overflows 64 bits (about 2^100)");
        add("size bomb", "over tensor limit", r -> { ArrayNode s = obj(r, "parameters", 0).putArray("shape"); s.add(100000); s.add(100000); }, "parameters[0].shape: tensor of shape [100000, 100000] needs 40000000000 bytes, more than the limit");
        add("size bomb", "dim over int", r -> { ArrayNode s = obj(r, "parameters", 0).putArray("shape"); s.add(1L << 40); }, "parameters[0].shape[0]: dimension 1099511627776 exceeds 2^31-1");
        add("size bomb", "negative stored dim", r -> { ArrayNode s = obj(r, "parameters", 0).putArray("shape"); s.add(-1); s.add(-48); }, "parameters[0].shape[0]: negative dimension -1");
        // references, ids, cycles
        add("references", "dangling param", r -> obj(r, "nodes", 0).withArray("inputs").set(0, SmallModels.MAPPER.getNodeFactory().textNode("param:nope")), "nodes[0].inputs[0]: nope is not defined (a dangling reference)");
        add("references", "forward reference", r -> obj(r, "nodes", 1).withArray("inputs").set(0, SmallModels.MAPPER.getNodeFactory().textNode("node:4")), "nodes[1].inputs[0]: %4 refers to nodes[3], which is not defined before this node (a forward reference or a cycle)");
        add("references", "two-node cycle", r -> {
            obj(r, "nodes", 0).withArray("inputs").set(1, SmallModels.MAPPER.getNodeFactory().textNode("node:2"));
        }, "nodes[0].inputs[1]: %2 refers to nodes[1], which is not defined before this node (a forward reference or a cycle)");
        add("references", "self loop", r -> obj(r, "nodes", 1).withArray("inputs").set(0, SmallModels.MAPPER.getNodeFactory().textNode("node:2")), "nodes[1].inputs[0]: %2 refers to nodes[1]");
        add("references", "bad ref syntax", r -> obj(r, "nodes", 1).withArray("inputs").set(0, SmallModels.MAPPER.getNodeFactory().textNode("%1")), "nodes[1].inputs[0]: '%1' is not a value reference");
        add("references", "duplicate node id", r -> obj(r, "nodes", 2).put("id", 1), "nodes[2].id: node id 1 is already used by nodes[0]");
        add("references", "duplicate parameter", r -> obj(r, "parameters", 1).put("name", "fc.weight"), "parameters[1].name: fc.weight is defined twice");
        add("references", "dangling output", r -> obj(r, "outputs", 0).put("ref", "node:77"), "outputs[0].ref: %77 is not defined");
        add("references", "zero node id", r -> obj(r, "nodes", 0).put("id", 0), "nodes[0].id: node id 0 must be positive");
        // ops and attributes
        add("ops", "unknown op", r -> obj(r, "nodes", 1).put("op", "exec"), "nodes[1].op: unknown op 'exec'");
        add("ops", "attr float for int", r -> ((ObjectNode) obj(r, "nodes", 3).get("attrs")).put("dim", 1.5), "nodes[3].attrs.dim: must be an integer");
        add("ops", "attr string for int", r -> ((ObjectNode) obj(r, "nodes", 3).get("attrs")).put("dim", "1"), "nodes[3].attrs.dim: must be an integer");
        add("ops", "attr out of rank", r -> ((ObjectNode) obj(r, "nodes", 3).get("attrs")).put("dim", 7), "nodes[3]: softmax cannot be applied");
        add("ops", "unknown attr", r -> ((ObjectNode) obj(r, "nodes", 3).get("attrs")).put("class", "java.lang.Runtime"), "nodes[3].attrs.class: unknown attribute of softmax");
        add("ops", "missing required attr", r -> obj(r, "nodes", 3).remove("attrs"), "nodes[3].attrs: softmax: attribute 'dim' is required");
        add("ops", "attr on attr-less op", r -> obj(r, "nodes", 1).putObject("attrs").put("x", 1), "nodes[1].attrs.x: unknown attribute of relu");
        add("ops", "wrong arity", r -> obj(r, "nodes", 1).withArray("inputs").add("node:1"), "nodes[1]: relu cannot be applied");
        add("ops", "declared type differs", r -> ((ObjectNode) obj(r, "nodes", 1).get("type")).withArray("shape").set(1, SmallModels.MAPPER.getNodeFactory().numberNode(5)), "nodes[1].type: declared f32[N,5] but relu of these inputs gives f32[N,3]");
        // sidecar names (embedded-only load refuses any sidecar; the path checks come first)
        for (String bad : new String[] {"../w.safetensors", "/etc/passwd", "sub/w.safetensors", "..\\w.safetensors", "C:w.safetensors", "w.bin"}) {
            add("path traversal", bad, r -> { ObjectNode d = data(r, 0); d.removeAll(); d.put("encoding", "safetensors").put("sha256", "0".repeat(64)).put("file", bad).put("key", "fc.weight"); },
                    "parameters[0].data.file: sidecar file name '" + bad + "' must");
        }
    }

    @TestFactory
    Stream<DynamicTest> everyCorpusEntryIsRejectedWithItsMessage() {
        Graph g = SmallModels.mlp();
        return CASES.stream().map(c -> DynamicTest.dynamicTest(c.category() + ": " + c.name(), () -> {
            ObjectNode root = SmallModels.tree(g);
            c.edit().accept(root);
            KilnFormatException e = assertThrows(KilnFormatException.class, () -> KilnReader.fromJson(SmallModels.bytes(root), LoadLimits.defaults()));
            assertTrue(e.getMessage().startsWith(c.expected()) || e.getMessage().contains(c.expected()), c.name() + ": expected '" + c.expected() + "' in: " + e.getMessage());
        }));
    }

    @Test
    void theUneditedBaseLoads() {
        Graph g = SmallModels.mlp();
        assertEquals(g.toString(), KilnReader.fromJson(SmallModels.bytes(SmallModels.tree(g)), LoadLimits.defaults()).graph().toString());
    }

    @Test
    void aUtf8ByteOrderMarkIsSkippedAndUtf16Or32IsRefusedByName() {
        Graph g = SmallModels.mlp();
        byte[] doc = KilnWriter.toJson(g);
        byte[] bom = new byte[doc.length + 3];
        bom[0] = (byte) 0xef;
        bom[1] = (byte) 0xbb;
        bom[2] = (byte) 0xbf;
        System.arraycopy(doc, 0, bom, 3, doc.length);
        assertEquals(g.toString(), KilnReader.fromJson(bom, LoadLimits.defaults()).graph().toString());
        String text = new String(doc, StandardCharsets.UTF_8);
        // Jackson alone would detect and read each of these
        for (var cs : List.of(StandardCharsets.UTF_16, StandardCharsets.UTF_16LE, StandardCharsets.UTF_16BE, java.nio.charset.Charset.forName("UTF-32"))) {
            byte[] other = text.getBytes(cs);
            KilnFormatException e = assertThrows(KilnFormatException.class, () -> KilnReader.fromJson(other, LoadLimits.defaults()), cs.name());
            assertTrue(e.getMessage().contains("artifacts are UTF-8 (RFC 8259)") && e.getMessage().contains("UTF-"), cs + ": " + e.getMessage());
        }
    }

    @Test
    void olderOrEqualMinorLoadsAndNewerMinorMayAddFields() {
        Graph g = SmallModels.mlp();
        ObjectNode r = SmallModels.tree(g);
        r.put("version", "1.7").put("added_in_1_7", "ignored");
        obj(r, "nodes", 0).put("hint", "also ignored");
        Artifact a = KilnReader.fromJson(SmallModels.bytes(r), LoadLimits.defaults());
        assertEquals("1.7", a.version().toString());
        assertEquals(g.toString(), a.graph().toString());
    }

    @Test
    void truncationAtEveryOffsetIsRejected() {
        byte[] doc = KilnWriter.toJson(SmallModels.mlp());
        int rejected = 0;
        for (int n = 0; n < doc.length; n += 7) {
            byte[] cut = Arrays.copyOf(doc, n);
            KilnFormatException e = assertThrows(KilnFormatException.class, () -> KilnReader.fromJson(cut, LoadLimits.defaults()), "prefix of " + n + " bytes");
            assertTrue(e.getMessage().startsWith("artifact: "), e.getMessage());
            rejected++;
        }
        assertTrue(rejected > 100, "the corpus covers " + rejected + " offsets");
    }

    @Test
    void syntaxLevelAttacksHitTheParserLimits() {
        String deep = "[".repeat(5000) + "]".repeat(5000);
        // a graph nests 64 levels, and each of up to 32 levels of bodies 4 more
        int depth = LoadLimits.defaults().jsonDepth();
        assertEquals(64 + 4 * 32, depth);
        assertMessage(deep.getBytes(StandardCharsets.UTF_8), "artifact: JSON exceeds a safety limit: Document nesting depth (" + (depth + 1) + ") exceeds the maximum allowed");
        String longNumber = "{\"opset\": 1" + "0".repeat(200) + "}";
        assertMessage(longNumber.getBytes(StandardCharsets.UTF_8), "artifact: JSON exceeds a safety limit: Number value length");
        assertMessage("{\"format\": \"kiln-graph\", \"format\": \"x\"}".getBytes(StandardCharsets.UTF_8), "artifact: malformed JSON: Duplicate field 'format'");
        assertMessage((new String(KilnWriter.toJson(SmallModels.mlp()), StandardCharsets.UTF_8) + " {}").getBytes(StandardCharsets.UTF_8), "artifact: malformed JSON: Trailing token");
        assertMessage("".getBytes(StandardCharsets.UTF_8), "artifact: ");
        assertMessage("[]".getBytes(StandardCharsets.UTF_8), "must be an object, got an array");
        LoadLimits small = LoadLimits.defaults().withMaxDocumentBytes(1000);
        KilnFormatException e = assertThrows(KilnFormatException.class, () -> KilnReader.fromJson(KilnWriter.toJson(SmallModels.mlp()), small));
        assertTrue(e.getMessage().contains("exceeds the limit of 1000"), e.getMessage());
        LoadLimits tiny = new LoadLimits(1 << 20, 64, 32, 64, 32, 1 << 20, 1 << 20, 1000);
        e = assertThrows(KilnFormatException.class, () -> KilnReader.fromJson(KilnWriter.toJson(SmallModels.mlp()), tiny));
        assertTrue(e.getMessage().contains("String value length"), e.getMessage());
    }

    private static void assertMessage(byte[] doc, String expected) {
        KilnFormatException e = assertThrows(KilnFormatException.class, () -> KilnReader.fromJson(doc, LoadLimits.defaults()));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    @Test
    void aChainOf100kNodesLoads() {
        GraphBuilder b = Graph.builder("chain");
        Value x = b.addInput("x", new TensorType(DType.FLOAT32, new Dim[] {Dim.symbol("N"), Dim.of(2)}));
        for (int i = 0; i < 100_000; i++) x = b.add(i % 2 == 0 ? Op.RELU : Op.NEG, Attrs.EMPTY, null, x);
        Graph g = b.output(x).build();
        Graph back = KilnReader.fromJson(KilnWriter.toJson(g), LoadLimits.defaults()).graph();
        assertEquals(100_000, back.nodes().size());
        assertEquals(g.toString(), back.toString());
    }

    @Test
    void tooManyNodesAreRefusedBeforeTheyAreRead() {
        LoadLimits few = new LoadLimits(1 << 20, 64, 1 << 20, 64, 32, 1 << 20, 1 << 20, 3);
        KilnFormatException e = assertThrows(KilnFormatException.class, () -> KilnReader.fromJson(KilnWriter.toJson(SmallModels.mlp()), few));
        assertEquals("nodes: 4 nodes exceed the limit of 3", e.getMessage());
    }
}
