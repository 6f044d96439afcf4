package dev.kiln.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.Graph;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/** Files of format 1.0, written before symbolic SHAPE attributes (1.1), still load. */
class FormatVersionTest {
    @Test
    void aVersion10ArtifactStillLoads() throws Exception {
        byte[] doc;
        try (InputStream in = getClass().getResourceAsStream("KilnLoaderFuzzTestInputs/loadsOrRejectsCleanly/mlp.kiln.json")) {
            doc = in.readAllBytes();
        }
        assertTrue(new String(doc, java.nio.charset.StandardCharsets.UTF_8).contains("\"version\" : \"1.0\""), "the fixture is a 1.0 file");
        Artifact a = KilnReader.fromJson(doc, LoadLimits.defaults());
        assertEquals("1.0", a.version().toString());
        Graph g = a.graph();
        assertTrue(g.nodes().size() > 0);
        // written back, it is a 1.1 file that reads back to the same graph
        Graph again = KilnReader.fromJson(KilnWriter.toJson(g), LoadLimits.defaults()).graph();
        assertEquals(g.toString(), again.toString());
    }
}
