package dev.kiln.serialization;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.backend.Strided;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ReferenceInterpreter;
import dev.kiln.graph.Verifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** load(save(g)) is g: same text form, same metadata and guards, bit-equal outputs; for both weight layouts. */
class RoundTripTest {
    static final int GRAPHS = 200;

    @TempDir
    Path dir;

    @Test
    void randomGraphsRoundTripEmbedded() throws Exception {
        Random r = new Random(42);
        for (int i = 0; i < GRAPHS; i++) {
            Graph g = RandomGraphs.generate(r, 1 + r.nextInt(40));
            Verifier.verify(g);
            Graph back = KilnReader.fromJson(KilnWriter.toJson(g), LoadLimits.defaults()).graph();
            assertSame(g, back, r, "graph " + i);
        }
    }

    @Test
    void randomGraphsRoundTripWithSidecar() throws Exception {
        Random r = new Random(7);
        for (int i = 0; i < GRAPHS / 4; i++) {
            Graph g = RandomGraphs.generate(r, 1 + r.nextInt(40));
            Path file = dir.resolve("m" + i + ".kiln.json");
            KilnWriter.save(g, file, KilnWriter.Weights.SIDECAR);
            assertEquals(true, Files.exists(dir.resolve("m" + i + ".safetensors")));
            assertSame(g, KilnReader.load(file), r, "graph " + i);
            // the sidecar is a plain safetensors file
            assertEquals(g.params().size() + g.constants().size(), Safetensors.read(dir.resolve("m" + i + ".safetensors")).size());
        }
    }

    @Test
    void savingIsDeterministic() {
        Graph g = RandomGraphs.generate(new Random(3), 30);
        assertArrayEquals(KilnWriter.toJson(g), KilnWriter.toJson(g));
        Graph back = KilnReader.fromJson(KilnWriter.toJson(g), LoadLimits.defaults()).graph();
        assertArrayEquals(KilnWriter.toJson(g), KilnWriter.toJson(back));
    }

    static void assertSame(Graph g, Graph back, Random r, String what) {
        assertEquals(g.toString(), back.toString(), what);
        assertEquals(g.metadata(), back.metadata(), what);
        assertEquals(g.guards().size(), back.guards().size(), what);
        for (int k = 0; k < g.guards().size(); k++) {
            assertArrayEquals(g.guards().get(k).expected(), back.guards().get(k).expected(), what);
            assertEquals(g.guards().get(k).value(), back.guards().get(k).value(), what);
        }
        for (int batch : new int[] {1, 3}) {
            List<Strided> in = RandomGraphs.inputsFor(g, r, batch);
            List<Strided> a = ReferenceInterpreter.run(g, in), b = ReferenceInterpreter.run(back, in);
            for (int o = 0; o < a.size(); o++) {
                assertArrayEquals(TensorBytes.toBytes(a.get(o)), TensorBytes.toBytes(b.get(o)), what + " output " + o + " batch " + batch);
            }
        }
    }
}
