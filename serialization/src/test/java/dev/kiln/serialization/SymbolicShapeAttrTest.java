package dev.kiln.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.DType;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.op.SymbolicShape;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Value;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Symbolic sizes in a SHAPE attribute (format 1.1): read back equal, and every malformed form rejected naming the field. */
class SymbolicShapeAttrTest {
    /** x: f32[B,T,8] -> reshape [B*T, 8] -> reshape [B, T, 2, 4]. */
    static String artifact() {
        GraphBuilder b = Graph.builder("sym");
        Value x = b.addInput("x", new TensorType(DType.FLOAT32, new Dim[] {Dim.symbol("B"), Dim.symbol("T"), Dim.of(8)}));
        Value rows = b.add(Op.RESHAPE, Attrs.of("shape", new SymbolicShape(new Dim[] {Dim.symbol("B").times(Dim.symbol("T")), Dim.of(8)})), null, x);
        Value y = b.add(Op.RESHAPE, Attrs.of("shape", new SymbolicShape(new Dim[] {Dim.symbol("B"), Dim.symbol("T"), null, Dim.of(4)})), null, rows);
        return new String(KilnWriter.toJson(b.output(y).build()), StandardCharsets.UTF_8);
    }

    static Graph load(String doc) { return KilnReader.fromJson(doc.getBytes(StandardCharsets.UTF_8), LoadLimits.defaults()).graph(); }

    @Test
    void symbolicSizesRoundTrip() {
        String doc = artifact();
        assertTrue(doc.contains("\"B*T\"") && doc.contains("-1"), doc);
        assertEquals("f32[B,T,2,4]", load(doc).typeOf(load(doc).outputs().get(0)).toString());
    }

    @Test
    void malformedSymbolicSizesAreRejectedNamingTheField() {
        String doc = artifact();
        String[][] cases = {
            {"[ \"B*T\", 8 ]", "[ \"Z\", 8 ]", "shape [Z, 8] is invalid"},   // a symbol no input has
            {"[ \"B*T\", 8 ]", "[ \"T*B\", 8 ]", "not in normal form"},     // normal form is sorted
            {"[ \"B*T\", 8 ]", "[ \"-1\", 8 ]", "is not an integer or a product of symbols"},
            {"[ \"B*T\", 8 ]", "[ 8.5, 8 ]", "a dim must be an integer"},
            {"[ \"B*T\", 8 ]", "[ \"" + "B*".repeat(40) + "T\", 8 ]", "more than 16 factors"},
            {"[ \"B*T\", 8 ]", "[ " + "1, ".repeat(40) + "8 ]", "exceeds the rank limit"},
        };
        for (String[] c : cases) {
            assertTrue(doc.contains(c[0]), "fixture text " + c[0] + " in " + doc);
            String bad = doc.replace(c[0], c[1]);
            RuntimeException e = assertThrows(RuntimeException.class, () -> load(bad), c[1]);
            assertTrue(e.getMessage().contains(c[2]) && e.getMessage().contains("nodes["), c[1] + ": " + e.getMessage());
        }
    }
}
