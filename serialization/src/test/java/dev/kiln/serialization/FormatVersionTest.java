package dev.kiln.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.backend.DType;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Value;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Files of every earlier version still load exactly as before: 1.0 (before symbolic SHAPE
 * attributes), 1.1 (before output names) and 1.2 (before control flow), each a fixture written by
 * the writer of its time (format-1.1-tagger is format-1.2-tagger less its output names, all that
 * 1.2 added), compared with the text form that version's reader gave.
 */
class FormatVersionTest {
    static byte[] resource(String name) throws IOException {
        try (InputStream in = FormatVersionTest.class.getResourceAsStream(name)) {
            if (in == null) throw new IOException(name + " is missing from src/test/resources/dev/kiln/serialization");
            return in.readAllBytes();
        }
    }

    private static void loadsAsBefore(String fixture, String version, String golden) throws IOException {
        byte[] doc = resource(fixture);
        assertTrue(new String(doc, StandardCharsets.UTF_8).contains("\"version\" : \"" + version + "\""), fixture + " is a " + version + " file");
        Artifact a = KilnReader.fromJson(doc, LoadLimits.defaults());
        assertEquals(version, a.version().toString());
        assertEquals(1, a.opset());
        Graph g = a.graph();
        assertEquals(new String(resource(golden), StandardCharsets.UTF_8), g.toString(), fixture);
        // written back, it is a 1.3 file of opset 1 that reads back to the same graph
        byte[] again = KilnWriter.toJson(g);
        assertTrue(new String(again, StandardCharsets.UTF_8).contains("\"opset\" : 1,"));
        assertEquals(g.toString(), KilnReader.fromJson(again, LoadLimits.defaults()).graph().toString());
    }

    @Test
    void aVersion10ArtifactStillLoads() throws Exception {
        loadsAsBefore("KilnLoaderFuzzTestInputs/loadsOrRejectsCleanly/mlp.kiln.json", "1.0", "format-1.0-mlp.txt");
    }

    @Test
    void aVersion11ArtifactStillLoadsWithItsNodeIdOutputNames() throws Exception {
        loadsAsBefore("format-1.1-tagger.kiln.json", "1.1", "format-1.1-tagger.txt");
    }

    @Test
    void aVersion12ArtifactStillLoads() throws Exception {
        // symbolic reshape sizes (1.1), named outputs (1.2), unflatten and size (ops added to opset 1 after its first version)
        loadsAsBefore("format-1.2-tagger.kiln.json", "1.2", "format-1.2-tagger.txt");
    }

    /**
     * Writers before 1.3 declared opset 1 whatever ops they wrote, attention and max_pool2d
     * (now opset 2) included: their files keep loading. From 1.3 on the writer declares opset 2.
     */
    @Test
    void aVersion12FileWithOpsNowInOpset2StillLoads() {
        GraphBuilder b = Graph.builder("attend");
        Dim t = Dim.symbol("T");
        TensorType qkv = new TensorType(DType.FLOAT32, new Dim[] {Dim.of(1), Dim.of(2), t, Dim.of(4)});
        Value q = b.addInput("q", qkv), k = b.addInput("k", qkv), v = b.addInput("v", qkv);
        Value img = b.addInput("img", TensorType.of(DType.FLOAT32, 1, 1, 4, 4));
        b.output(b.add(Op.SCALED_DOT_PRODUCT_ATTENTION, Attrs.of("causal", true), null, q, k, v));
        b.output(b.add(Op.MAX_POOL2D, Attrs.of("kernel_size", new int[] {2, 2}, "stride", new int[] {2, 2}), null, img));
        Graph g = b.build();
        ObjectNode now = SmallModels.tree(g);
        assertEquals("1.3", now.get("version").asText());
        assertEquals(2, now.get("opset").asInt());
        // what the 1.2 writer wrote for the same graph: its nodes were written as today
        ObjectNode old = now.deepCopy().put("version", "1.2").put("opset", 1);
        Artifact a = KilnReader.fromJson(SmallModels.bytes(old), LoadLimits.defaults());
        assertEquals(g.toString(), a.graph().toString());
        // the same nodes in a 1.3 file are checked against its opset
        KilnFormatException e = org.junit.jupiter.api.Assertions.assertThrows(KilnFormatException.class,
                () -> KilnReader.fromJson(SmallModels.bytes(now.deepCopy().put("opset", 1)), LoadLimits.defaults()));
        assertEquals("nodes[0].op: op scaled_dot_product_attention is in opset 2, but the file declares opset 1", e.getMessage());
    }
}
