package dev.kiln.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.graph.Graph;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Hostile control-flow artifacts (format 1.3): each entry edits the RNN's artifact (root nodes:
 * [0] the scan %1 with body rnn_step, [1] sum(%1.1)) in one way and names the JSON path and
 * problem its rejection must carry.
 */
class ControlFlowMalformedTest {
    record Case(String name, Consumer<ObjectNode> edit, String expected) {}

    static final List<Case> CASES = new ArrayList<>();
    static final JsonNodeFactory F = JsonNodeFactory.instance;

    private static void add(String name, Consumer<ObjectNode> edit, String expected) { CASES.add(new Case(name, edit, expected)); }

    private static ObjectNode node(ObjectNode root, int i) { return (ObjectNode) root.withArray("nodes").get(i); }

    private static ObjectNode body(ObjectNode root) { return (ObjectNode) node(root, 0).withArray("bodies").get(0); }

    private static ObjectNode bodyNode(ObjectNode root, int i) { return (ObjectNode) body(root).withArray("nodes").get(i); }

    private static void setInput(ObjectNode node, int i, String ref) { node.withArray("inputs").set(i, F.textNode(ref)); }

    static {
        // references: each body is its own namespace
        add("a body reads an enclosing input", r -> setInput(bodyNode(r, 0), 0, "input:bias"),
                "nodes[0].bodies[0].nodes[0].inputs[0]: %bias is not defined (a dangling reference): it belongs to an enclosing graph");
        add("a body reads an enclosing parameter", r -> setInput(bodyNode(r, 0), 1, "param:fc.weight"),
                "nodes[0].bodies[0].nodes[0].inputs[1]: fc.weight is not defined (a dangling reference): it belongs to an enclosing graph");
        add("a body returns an enclosing input", r -> ((ObjectNode) body(r).withArray("outputs").get(0)).put("ref", "input:h0"),
                "nodes[0].bodies[0].outputs[0].ref: %h0 is not defined (a dangling reference): it belongs to an enclosing graph");
        add("a forward reference inside a body", r -> setInput(bodyNode(r, 1), 0, "node:3"),
                "nodes[0].bodies[0].nodes[1].inputs[0]: %3 refers to nodes[2], which is not defined before this node (a forward reference or a cycle)");
        add("a body's node ids are unique in the body", r -> bodyNode(r, 1).put("id", 1),
                "nodes[0].bodies[0].nodes[1].id: node id 1 is already used by nodes[0]");
        add("an output the node does not have", r -> setInput(node(r, 1), 0, "node:1.5"),
                "nodes[1].inputs[0]: %1.5 is not defined (a dangling reference: node %1 has 3 outputs)");
        add("an output of an ordinary node other than 0", r -> setInput(bodyNode(r, 1), 0, "node:1.1"),
                "nodes[0].bodies[0].nodes[1].inputs[0]: %1.1 is not defined (a dangling reference: node %1 has 1 output)");
        add("output 0 spelled node:ID.0", r -> setInput(node(r, 1), 0, "node:1.0"),
                "nodes[1].inputs[0]: 'node:1.0' spells output 0 with .0; write node:1 (one spelling per value)");
        add("a leading zero in the output index", r -> setInput(node(r, 1), 0, "node:1.01"),
                "nodes[1].inputs[0]: 'node:1.01' does not name a node output (node:ID or node:ID.K, positive integers without leading zeros)");
        add("a leading zero in the node id", r -> setInput(node(r, 1), 0, "node:01.1"), "nodes[1].inputs[0]: 'node:01.1' does not name a node output");
        // types and bodies where they belong
        add("types on an ordinary node", r -> { ObjectNode n = node(r, 1); n.putArray("types").add(n.remove("type")); },
                "nodes[1].types: sum has one output, declared as \"type\" (\"types\" is for control-flow nodes)");
        add("types and type on an ordinary node", r -> { ObjectNode n = node(r, 1); n.putArray("types").add(n.get("type").deepCopy()); },
                "nodes[1].types: sum has one output, declared as \"type\"");
        add("bodies on an ordinary node", r -> node(r, 1).set("bodies", node(r, 0).get("bodies").deepCopy()),
                "nodes[1].bodies: sum is not a control-flow op and holds no bodies");
        add("type on a control-flow node", r -> { ObjectNode n = node(r, 0); n.set("type", n.withArray("types").get(0)); n.remove("types"); },
                "nodes[0].type: scan is a control-flow node: its outputs are declared as \"types\", an array");
        add("no types", r -> node(r, 0).remove("types"), "nodes[0].types: is required");
        add("empty types", r -> node(r, 0).putArray("types"), "nodes[0].types: a node has at least one output");
        add("no bodies", r -> node(r, 0).remove("bodies"), "nodes[0].bodies: is required");
        add("a second body for a scan", r -> node(r, 0).withArray("bodies").add(body(r).deepCopy()),
                "nodes[0]: scan cannot be applied to [f32[1,4], f32[T,1,4], f32[T,1,4], f32[4,4], f32[4]] with these bodies: scan: expected 1 bodies, got 2");
        add("declared types disagree with the bodies", r -> ((ObjectNode) node(r, 0).withArray("types").get(2)).putArray("shape").add("T").add(1),
                "nodes[0].types: declared [f32[1,4], f32[T,1,4], f32[T,1]] but the bodies of scan give [f32[1,4], f32[T,1,4], f32[T]]");
        add("a body whose carry changes type", r -> {
            ObjectNode out = (ObjectNode) body(r).withArray("outputs").get(0);
            out.put("ref", "node:8");
            ((ObjectNode) out.get("type")).putArray("shape");
        }, "nodes[0]: scan cannot be applied to [f32[1,4], f32[T,1,4], f32[T,1,4], f32[4,4], f32[4]] with these bodies: scan: the body returns carries [f32[]]"
                + " but they came in as [f32[1,4]]");
        add("a body output typed wrong", r -> ((ObjectNode) ((ObjectNode) body(r).withArray("outputs").get(2)).get("type")).put("dtype", "f64"),
                "nodes[0].bodies[0].outputs[2].type: declared f64[] but %8 is f32[]");
        // what a body holds
        add("a body with parameters", r -> body(r).putArray("parameters"),
                "nodes[0].bodies[0].parameters: a body has no parameters: it reads weights as inputs the node passes in (captures)");
        add("a body with a ledger", r -> body(r).putArray("assumptions"), "nodes[0].bodies[0].assumptions: unknown field");
        add("a body constant in a sidecar", r -> {
            ObjectNode d = (ObjectNode) ((ObjectNode) body(r).withArray("constants").get(0)).get("data");
            d.removeAll();
            d.put("encoding", "safetensors").put("sha256", "0".repeat(64)).put("file", "rnn.safetensors").put("key", "half");
        }, "nodes[0].bodies[0].constants[0].data.encoding: a body's constants are embedded (encoding base64)");
        add("a body without outputs", r -> body(r).putArray("outputs"), "nodes[0].bodies[0].outputs: a graph needs at least one output");
        add("a body output name twice", r -> ((ObjectNode) body(r).withArray("outputs").get(1)).put("name", "h"),
                "nodes[0].bodies[0].outputs[1].name: two outputs are named 'h'");
        add("a body with a bad name", r -> body(r).put("name", "a\u0007b"), "nodes[0].bodies[0].name: name 'a?b' contains");
        add("a body that is not an object", r -> node(r, 0).withArray("bodies").set(0, F.textNode("rnn_step")),
                "nodes[0].bodies[0]: must be an object, got a string");
        // versions and opsets
        add("opset 1 declared with a scan node", r -> r.put("opset", 1), "nodes[0].op: op scan is in opset 2, but the file declares opset 1");
        add("a scan node in a 1.2 file", r -> r.put("version", "1.2"), "nodes[0].op: op scan needs format 1.3 or later, but the file is 1.2");
        add("a newer opset", r -> r.put("opset", FormatVersion.OPSET + 1),
                "opset: opset " + (FormatVersion.OPSET + 1) + " is not supported by this reader (it knows opset 1 to " + FormatVersion.OPSET + ")");
    }

    @TestFactory
    Stream<DynamicTest> everyHostileControlFlowFileIsRejectedWithItsPathAndProblem() {
        Graph g = ControlFlowModels.rnn().graph();
        return CASES.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            ObjectNode root = SmallModels.tree(g);
            c.edit().accept(root);
            KilnFormatException e = assertThrows(KilnFormatException.class, () -> KilnReader.fromJson(SmallModels.bytes(root), LoadLimits.defaults()));
            assertTrue(e.getMessage().startsWith(c.expected()), c.name() + ": expected '" + c.expected() + "' at the start of: " + e.getMessage());
        }));
    }

    @Test
    void theUneditedBaseLoads() {
        Graph g = ControlFlowModels.rnn().graph();
        assertEquals(g.toString(), KilnReader.fromJson(SmallModels.bytes(SmallModels.tree(g)), LoadLimits.defaults()).graph().toString());
    }

    @Test
    void anOpset2OpInsideABodyIsCheckedToo() {
        // the body's scan is checked against the file's opset as the root's is: the body alone, as a file, is refused too
        ObjectNode r = SmallModels.tree(ControlFlowModels.nestedScan().graph());
        r.put("opset", 1);
        KilnFormatException e = assertThrows(KilnFormatException.class, () -> KilnReader.fromJson(SmallModels.bytes(r), LoadLimits.defaults()));
        assertTrue(e.getMessage().startsWith("nodes[0].op: op scan is in opset 2, but the file declares opset 1"), e.getMessage());
        ObjectNode body = (ObjectNode) r.at("/nodes/0/bodies/0");
        Graph bodyOnly = KilnReader.fromJson(SmallModels.bytes(asRoot(body)), LoadLimits.defaults()).graph();
        assertEquals("block", bodyOnly.name());
        ObjectNode asFile = asRoot(body);
        asFile.put("opset", 1);
        e = assertThrows(KilnFormatException.class, () -> KilnReader.fromJson(SmallModels.bytes(asFile), LoadLimits.defaults()));
        assertTrue(e.getMessage().startsWith("nodes[0].op: op scan is in opset 2, but the file declares opset 1"), e.getMessage());
    }

    /** A body made into a file of its own (a body is a graph less the root's fields). */
    private static ObjectNode asRoot(ObjectNode body) {
        ObjectNode r = F.objectNode();
        r.put("format", "kiln-graph").put("version", "1.3").put("opset", 2).put("producer", "test");
        body.fields().forEachRemaining(e -> r.set(e.getKey(), e.getValue().deepCopy()));
        return r;
    }

    @Test
    void bodiesNestedDeeperThanTheLimitAreRefusedByPath() {
        Graph deep = ControlFlowModels.condChain(LoadLimits.DEFAULT_MAX_BODY_DEPTH + 1);
        KilnFormatException e = assertThrows(KilnFormatException.class, () -> KilnReader.fromJson(KilnWriter.toJson(deep), LoadLimits.defaults()));
        // the cond that fails is the first node of the 32nd body down
        String path = "nodes[0].bodies[0].".repeat(LoadLimits.DEFAULT_MAX_BODY_DEPTH) + "nodes[0].bodies";
        assertEquals(path + ": bodies nest 33 levels deep, more than the limit of 32 (LoadLimits.maxBodyDepth)", e.getMessage());
        // a deployment can lower the limit: a scan in a scan body is 2 levels
        byte[] nested = KilnWriter.toJson(ControlFlowModels.nestedScan().graph());
        KilnReader.fromJson(nested, LoadLimits.defaults().withMaxBodyDepth(2));
        e = assertThrows(KilnFormatException.class, () -> KilnReader.fromJson(nested, LoadLimits.defaults().withMaxBodyDepth(1)));
        assertEquals("nodes[0].bodies[0].nodes[0].bodies: bodies nest 2 levels deep, more than the limit of 1 (LoadLimits.maxBodyDepth)", e.getMessage());
    }

    @Test
    void bodiesNodesCountAgainstTheNodeLimit() {
        byte[] doc = KilnWriter.toJson(ControlFlowModels.rnn().graph());
        KilnReader.fromJson(doc, limitNodes(10)); // 2 at the top, 8 in the body
        KilnFormatException e = assertThrows(KilnFormatException.class, () -> KilnReader.fromJson(doc, limitNodes(9)));
        assertEquals("nodes[0].bodies[0].nodes: 8 nodes, 10 with the nodes read before them (bodies included), exceed the limit of 9", e.getMessage());
    }

    private static LoadLimits limitNodes(int n) {
        LoadLimits d = LoadLimits.defaults();
        return new LoadLimits(d.maxDocumentBytes(), d.maxNestingDepth(), d.maxStringLength(), d.maxNumberLength(), d.maxRank(), d.maxTensorBytes(),
                d.maxTotalBytes(), n, d.maxBodyDepth());
    }

    @Test
    void aNewerMinorMayAddFieldsToBodiesAndControlNodes() {
        Graph g = ControlFlowModels.rnn().graph();
        ObjectNode r = SmallModels.tree(g);
        r.put("version", "1.9");
        body(r).put("added_in_1_9", true);
        node(r, 0).put("schedule", "unrolled");
        assertEquals(g.toString(), KilnReader.fromJson(SmallModels.bytes(r), LoadLimits.defaults()).graph().toString());
        // a known field in the wrong place is still refused: its meaning is known
        body(r).putArray("parameters");
        KilnFormatException e = assertThrows(KilnFormatException.class, () -> KilnReader.fromJson(SmallModels.bytes(r), LoadLimits.defaults()));
        assertTrue(e.getMessage().startsWith("nodes[0].bodies[0].parameters: a body has no parameters"), e.getMessage());
    }

    @Test
    void everyExpectedMessageStartsWithAJsonPath() {
        // the corpus above: each rejection names where in the document, never a bare exception text
        for (Case c : CASES) assertTrue(c.expected().matches("^(nodes|opset)[\\[.:].*"), c.name() + ": " + c.expected());
    }
}
