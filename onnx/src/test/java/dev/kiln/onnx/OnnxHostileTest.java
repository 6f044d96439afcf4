package dev.kiln.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.serialization.KilnFormatException;
import dev.kiln.serialization.LoadLimits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX files are untrusted: malformed, hostile and unsupported models (tests/tools/gen_onnx_fixtures.py's
 * corpus) fail with a KilnFormatException or OnnxException naming the problem, and a mutation fuzz of
 * valid models finds no other failure.
 */
class OnnxHostileTest {
    static final Path DIR = Path.of("src/test/resources/onnx-fixtures");
    static final LoadLimits SMALL_HEAP = LoadLimits.forHeap(512L << 20);

    static final Map<String, String> EXPECTED = new LinkedHashMap<>();

    static {
        EXPECTED.put("truncated.onnx", "declares");
        EXPECTED.put("varint_overflow.onnx", "varint");
        EXPECTED.put("length_past_end.onnx", "declares 2147483647 bytes");
        EXPECTED.put("huge_dims.onnx", "needs 4000000000000000 bytes, more than the limit");
        EXPECTED.put("raw_data_size_mismatch.onnx", "raw_data holds 60 bytes but FLOAT[4, 4] needs 64");
        EXPECTED.put("negative_dim.onnx", "negative dimension -3");
        EXPECTED.put("external_traversal.onnx", "leaves the model's folder");
        EXPECTED.put("external_absolute.onnx", "is absolute");
        EXPECTED.put("external_missing.onnx", "does not exist beside the model");
        EXPECTED.put("external_offset_past_end.onnx", "lies outside 'small.bin'");
        EXPECTED.put("unknown_op.onnx", "operator FancyOp is not supported");
        EXPECTED.put("custom_domain.onnx", "com.example");
        EXPECTED.put("old_opset.onnx", "opset 7");
        EXPECTED.put("undefined_input.onnx", "is not defined by any earlier node");
        EXPECTED.put("cycle.onnx", "is not defined by any earlier node");
        EXPECTED.put("duplicate_output.onnx", "is already defined");
        EXPECTED.put("deep_subgraph.onnx", "nest deeper than 64");
        EXPECTED.put("string_bomb.onnx", "STRING tensors are not supported");
        EXPECTED.put("not_onnx.onnx", "");
        EXPECTED.put("empty.onnx", "empty");
        EXPECTED.put("wrong_wire_type.onnx", "wire type");
    }

    @TestFactory
    Stream<DynamicTest> eachHostileModelIsRefusedWithItsProblemNamed() {
        return EXPECTED.entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(), () -> {
            Path p = DIR.resolve("hostile").resolve(e.getKey());
            RuntimeException ex;
            try {
                Onnx.load(p, SMALL_HEAP, Map.of());
                throw new AssertionError(e.getKey() + " loaded");
            } catch (KilnFormatException | OnnxException x) {
                ex = x;
            }
            assertTrue(ex.getMessage().contains(e.getValue()), e.getKey() + ": " + ex.getMessage());
        }));
    }

    @Test
    void everyHostileFileIsCovered() throws IOException {
        try (Stream<Path> s = Files.list(DIR.resolve("hostile"))) {
            List<String> names = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".onnx")).sorted().toList();
            assertEquals(names, EXPECTED.keySet().stream().sorted().toList());
        }
    }

    @Test
    void mutatedModelsFailOnlyWithAFormatOrImportError(@TempDir Path tmp) throws IOException {
        Random rnd = new Random(1204);
        int loaded = 0, refused = 0;
        for (String name : List.of("mlp_opset17.onnx", "attention_opset17.onnx", "cnn_opset13.onnx")) {
            byte[] good = Files.readAllBytes(DIR.resolve(name));
            for (int trial = 0; trial < 80; trial++) {
                byte[] bad = good.clone();
                if (trial % 8 == 7) {
                    bad = java.util.Arrays.copyOf(good, rnd.nextInt(good.length));
                } else {
                    int flips = 1 + rnd.nextInt(6);
                    for (int k = 0; k < flips; k++) bad[rnd.nextInt(Math.min(bad.length, 4096))] = (byte) rnd.nextInt(256); // the structure, not the weights
                }
                Path p = tmp.resolve(name);
                Files.write(p, bad);
                try {
                    Onnx.load(p, SMALL_HEAP, Map.of());
                    loaded++;
                } catch (KilnFormatException | OnnxException expected) {
                    refused++;
                } catch (Throwable t) {
                    throw new AssertionError(name + " trial " + trial + ": " + t, t);
                }
            }
        }
        assertTrue(refused > 100, loaded + " loaded, " + refused + " refused");
    }
}
