package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The text form is part of the spec (DESIGN.md): golden files pin it. Regenerate with
 * -Dkiln.updateGolden=true after a deliberate change, and review the diff.
 */
class GraphTextGoldenTest {
    private static final Path DIR = Path.of("src", "test", "resources", "golden");

    static Graph lenetHead() {
        GraphBuilder b = Graph.builder("lenet_head");
        Value x = b.addInput("x", new TensorType(DType.FLOAT32, new Dim[] {Dim.symbol("N"), Dim.of(1), Dim.of(28), Dim.of(28)}));
        Value w = b.addParam("conv1.weight", TensorType.of(DType.FLOAT32, 6, 1, 5, 5), Strided.allocate(DType.FLOAT32, new int[] {6, 1, 5, 5}));
        Value bias = b.addParam("conv1.bias", TensorType.of(DType.FLOAT32, 6), Strided.allocate(DType.FLOAT32, new int[] {6}));
        Strided two = Strided.allocate(DType.FLOAT32, new int[0]);
        two.storage().f32()[0] = 2f;
        Value c = b.addConstant("c0", TensorType.of(DType.FLOAT32), two);
        Value conv = b.add(Op.CONV2D, Attrs.of("stride", new int[] {1, 1}, "padding", new int[] {2, 2}), "LeNet.java:31", x, w, bias);
        Value relu = b.add(Op.RELU, Attrs.EMPTY, "LeNet.java:31", conv);
        Value scaled = b.add(Op.MUL, Attrs.EMPTY, "LeNet.java:32", relu, c);
        Value flat = b.add(Op.FLATTEN, Attrs.of("start", 1), "LeNet.java:33", scaled);
        b.addAssumption(new Assumption("mode", "LeNet traced in eval mode", "LeNet.java:40"));
        return b.output(flat).build();
    }

    @Test
    void lenetHeadText() throws IOException { check("lenet_head.txt", lenetHead().toString()); }

    @Test
    void lenetHeadDot() throws IOException { check("lenet_head.dot", lenetHead().toDot()); }

    private static void check(String name, String actual) throws IOException {
        Path file = DIR.resolve(name);
        if (Boolean.getBoolean("kiln.updateGolden")) Files.writeString(file, actual, StandardCharsets.UTF_8);
        assertEquals(Files.readString(file, StandardCharsets.UTF_8), actual, "golden file " + file + " differs");
    }
}
