package dev.kiln.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.graph.Graph;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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

    @Test
    void theSchemaIsJsonAndNamesTheCurrentMajor() throws Exception {
        JsonNode schema = SmallModels.MAPPER.readTree(Files.readString(Path.of("..", "docs", "kiln-graph.schema.json")));
        assertEquals("kiln-graph", schema.at("/properties/format/const").asText());
        assertTrue(schema.at("/properties/version/pattern").asText().startsWith("^" + FormatVersion.CURRENT.major() + "\\."));
    }
}
