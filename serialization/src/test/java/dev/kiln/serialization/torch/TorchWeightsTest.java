package dev.kiln.serialization.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.serialization.KilnFormatException;
import dev.kiln.serialization.LoadLimits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * PyTorch .pt files written by torch 1.13 (tests/tools/gen_pt_fixtures.py) load with every value
 * as PyTorch has it; hostile files (code-running pickles, lying sizes, zip tricks) fail with a
 * KilnFormatException naming the problem, and a mutation fuzz finds no other failure.
 */
class TorchWeightsTest {
    static final Path DIR = Path.of("src/test/resources/torch-pt");

    static JsonNode expected() throws IOException { return new ObjectMapper().readTree(DIR.resolve("expected.json").toFile()); }

    /**
     * Follows a dotted path through dicts and lists; a dict key may itself hold dots (a state
     * dict's "conv1.weight"), so the longest matching key wins; int keys are written in decimal.
     */
    static Object at(Object root, String path) {
        Object o = root;
        if (path.isEmpty()) return o;
        String[] parts = path.split("\\.");
        for (int i = 0; i < parts.length; ) {
            if (o instanceof List<?> l) {
                o = l.get(Integer.parseInt(parts[i++]));
                continue;
            }
            if (!(o instanceof Map<?, ?> m)) throw new AssertionError("path " + path + ": " + o + " has no child " + parts[i]);
            int took = 0;
            for (int j = parts.length; j > i && took == 0; j--) {
                String k = String.join(".", java.util.Arrays.asList(parts).subList(i, j));
                if (m.containsKey(k)) { o = m.get(k); took = j - i; }
                else if (j == i + 1 && k.matches("-?\\d+") && m.containsKey(Long.parseLong(k))) { o = m.get(Long.parseLong(k)); took = 1; }
            }
            if (took == 0) throw new AssertionError("path " + path + ": no key at " + parts[i] + " among " + m.keySet());
            i += took;
        }
        return o;
    }

    static void assertTensor(String what, JsonNode want, Strided got) {
        assertEquals(want.get("dtype").asText(), got.dtype().shortName(), what + ": dtype");
        int[] shape = new int[want.get("shape").size()];
        for (int i = 0; i < shape.length; i++) shape[i] = want.get("shape").get(i).asInt();
        assertArrayEquals(shape, got.shape(), what + ": shape");
        JsonNode data = want.get("data");
        assertEquals(data.size(), got.numel(), what + ": numel");
        for (int i = 0; i < data.size(); i++) {
            int idx = got.indexOf(i);
            JsonNode w = data.get(i);
            String where = what + " element " + i;
            switch (got.dtype()) {
                case FLOAT32 -> assertEquals(Double.doubleToLongBits(decode(w)), Double.doubleToLongBits(got.storage().f32()[idx]), where);
                case FLOAT64 -> assertEquals(Double.doubleToLongBits(decode(w)), Double.doubleToLongBits(got.storage().f64()[idx]), where);
                case INT64 -> assertEquals(w.asLong(), got.storage().i64()[idx], where);
                case BOOL -> assertEquals(w.asBoolean(), got.storage().bool()[idx], where);
            }
        }
    }

    /** Floats are JSON numbers, or the strings nan, inf, -inf and -0.0. */
    static double decode(JsonNode w) {
        if (!w.isTextual()) return w.asDouble();
        return switch (w.asText()) {
            case "nan" -> Double.NaN;
            case "inf" -> Double.POSITIVE_INFINITY;
            case "-inf" -> Double.NEGATIVE_INFINITY;
            case "-0.0" -> -0.0;
            default -> throw new AssertionError("unexpected float " + w);
        };
    }

    @TestFactory
    Stream<DynamicTest> everyValidFileLoadsAsPyTorchHasIt() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        expected().fields().forEachRemaining(f -> tests.add(DynamicTest.dynamicTest(f.getKey(), () -> {
            Object root = TorchWeights.load(DIR.resolve(f.getKey()));
            JsonNode e = f.getValue();
            int[] count = {0};
            e.get("tensors").fields().forEachRemaining(t -> {
                Object v = at(root, t.getKey());
                assertTrue(v instanceof Strided, t.getKey() + " is " + v);
                assertTensor(f.getKey() + " " + t.getKey(), t.getValue(), (Strided) v);
                count[0]++;
            });
            assertTrue(count[0] > 0);
            e.get("values").fields().forEachRemaining(v -> {
                Object got = at(root, v.getKey());
                JsonNode w = v.getValue();
                String what = f.getKey() + " " + v.getKey();
                if (w.isNull()) assertEquals(null, got, what);
                else if (w.isBoolean()) assertEquals(w.asBoolean(), got, what);
                else if (w.isIntegralNumber()) assertEquals(w.asLong(), got, what);
                else if (w.isNumber()) assertEquals(w.asDouble(), got, what);
                else assertEquals(w.asText(), got, what);
            });
        })));
        return tests.stream();
    }

    @Test
    void stateDictsComeOutByNameAndACheckpointNamesItsDicts() throws IOException {
        JsonNode e = expected();
        Map<String, Strided> sd = TorchWeights.stateDict(DIR.resolve("lenet_state.pt"));
        List<String> names = new ArrayList<>();
        e.get("lenet_state.pt").get("tensors").fieldNames().forEachRemaining(names::add);
        assertEquals(names, new ArrayList<>(sd.keySet()), "the state dict's order is PyTorch's");
        assertEquals(DType.INT64, sd.get("bn1.num_batches_tracked").dtype());
        assertEquals(2L, sd.get("bn1.num_batches_tracked").storage().i64()[0]);

        Map<String, Strided> model = TorchWeights.stateDict(DIR.resolve("checkpoint.pt"), "model");
        assertEquals(List.of("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"), new ArrayList<>(model.keySet()));
        String msg = assertThrows(KilnFormatException.class, () -> TorchWeights.stateDict(DIR.resolve("checkpoint.pt"))).getMessage();
        assertTrue(msg.contains("not a state dict") && msg.contains("stateDict(file, \"model\")"), msg);
        msg = assertThrows(KilnFormatException.class, () -> TorchWeights.stateDict(DIR.resolve("checkpoint.pt"), "weights")).getMessage();
        assertTrue(msg.contains("no key 'weights'") && msg.contains("[model, optimizer, epoch, loss, name, flags, pair]"), msg);
        // parameters load as their data
        assertEquals(4, TorchWeights.stateDict(DIR.resolve("parameters.pt")).size());
    }

    @Test
    void viewsOfOneStorageKeepTheirOwnValuesAndTiedTensorsStayOne() throws IOException {
        Map<String, Strided> sd = TorchWeights.stateDict(DIR.resolve("views.pt"));
        assertSame(sd.get("tied_a"), sd.get("tied_b"), "one tensor object saved twice is one tensor");
        Strided base = sd.get("base"), t = sd.get("t");
        assertTrue(t.isContiguous() && t.offset() == 0, "views come out contiguous");
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 6; j++) assertEquals(base.storage().f32()[base.indexOf(i * 6 + j)], t.storage().f32()[t.indexOf(j * 4 + i)]);
        }
    }

    /** Each hostile file and the words its error must contain. */
    static final Map<String, String> HOSTILE = new LinkedHashMap<>();

    static {
        HOSTILE.put("os_system.pt", "global 'os.system' is not allowed");
        HOSTILE.put("builtins_eval.pt", "global 'builtins.eval' is not allowed");
        HOSTILE.put("nested_global.pt", "global 'subprocess.Popen' is not allowed");
        HOSTILE.put("stack_global.pt", "global 'posix.system' is not allowed");
        HOSTILE.put("whole_model.pt", "save model.state_dict() instead");
        HOSTILE.put("torchscript.pt", "TorchScript archive");
        HOSTILE.put("legacy.pt", "legacy torch.save format");
        HOSTILE.put("huge_storage.pt", "more than the limit");
        HOSTILE.put("storage_size_mismatch.pt", "holds 20 bytes, but the pickle declares a FloatStorage of 6 elements");
        HOSTILE.put("view_out_of_bounds.pt", "reaches element 6 of storage '0', which has 6");
        HOSTILE.put("negative_size.pt", "has element -1");
        HOSTILE.put("missing_data_entry.pt", "data/7' is missing");
        HOSTILE.put("path_traversal.pt", "contains a '..' path segment");
        HOSTILE.put("truncated_pickle.pt", "ends without STOP");
        HOSTILE.put("not_a_zip.pt", "not a PyTorch file");
        HOSTILE.put("duplicate_entries.pt", "appears twice");
        HOSTILE.put("deep_nesting.pt", "nests deeper than 64 levels");
        HOSTILE.put("self_reference.pt", "contains itself");
        HOSTILE.put("memo_get_missing.pt", "memo entry 5 was never stored");
        HOSTILE.put("unknown_opcode.pt", "opcode 0xff");
        HOSTILE.put("long4_huge.pt", "LONG4 declares 2147483647 bytes");
        HOSTILE.put("bad_dtype_storage.pt", "torch.ComplexFloatStorage is not one Kiln reads");
        // found by review: each ran the loader out of time, memory or stack (LoadLimits of a 512 MiB heap)
        HOSTILE.put("review_laughs.pt", "expands to more than 10000000 values");
        HOSTILE.put("review_od_cycle_key.pt", "an OrderedDict key is a list of 1");
        HOSTILE.put("review_od_deep_key.pt", "an OrderedDict key is a list of 1");
        HOSTILE.put("review_stride0.pt", "the tensor needs 1600000000 bytes, more than the limit of 134217728");
        HOSTILE.put("review_many_views.pt", "bytes together");
        HOSTILE.put("review_memo_flood.pt", "the pickle builds more than 4194304 values");
        HOSTILE.put("review_bigint_describe.pt", "LONG4 holds an integer of 2097152 bytes");
        HOSTILE.put("review_tuple_hash.pt", "a dict key is a tuple of 200000");
    }

    /** The limits a 512 MiB heap gets: small enough that a file past them would exhaust it. */
    static final LoadLimits SMALL_HEAP = LoadLimits.forHeap(512L << 20);

    @TestFactory
    Stream<DynamicTest> hostileFilesFailWithTheirProblemNamed() {
        return HOSTILE.entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(), () -> {
            Path p = DIR.resolve("hostile").resolve(e.getKey());
            long t0 = System.nanoTime();
            String msg = assertThrows(KilnFormatException.class, () -> TorchWeights.load(p, SMALL_HEAP)).getMessage();
            assertTrue(System.nanoTime() - t0 < 20_000_000_000L, "refused in seconds");
            assertTrue(msg.startsWith(e.getKey()), "the error names the file: " + msg);
            assertTrue(msg.contains(e.getValue()), msg);
        }));
    }

    @Test
    void everyHostileFileIsCovered() throws IOException {
        try (Stream<Path> files = Files.list(DIR.resolve("hostile"))) {
            List<String> names = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".pt")).sorted().toList();
            List<String> covered = new ArrayList<>(HOSTILE.keySet());
            covered.add("zip_bomb.pt");
            covered.add("review_summary_paths.pt"); // valid; KilnCliTest prints it
            assertEquals(names, covered.stream().sorted().toList());
        }
    }

    @Test
    void sharedAndHugeStructuresWithinTheLimitsStillLoad() throws IOException {
        // a 4 MB key over a 20,000-element list: valid, and quick to load
        Object root = TorchWeights.load(DIR.resolve("hostile/review_summary_paths.pt"), SMALL_HEAP);
        assertTrue(root instanceof Map<?, ?> m && m.size() == 1);
    }

    @Test
    void aZipBombStopsAtTheLimitBeforeInflating() {
        // 64 MiB of pickle inflated from 64 KB; a 64 MiB heap allows an 8 MiB pickle
        LoadLimits small = LoadLimits.forHeap(64L << 20);
        String msg = assertThrows(KilnFormatException.class, () -> TorchWeights.load(DIR.resolve("hostile/zip_bomb.pt"), small)).getMessage();
        assertTrue(msg.contains("zip_bomb/data.pkl' declares 67108866 bytes, more than the limit of 8388608"), msg);
    }

    @Test
    void tensorAndTotalLimitsApplyBeforeAllocation() {
        Path lenet = DIR.resolve("lenet_state.pt");
        String msg = assertThrows(KilnFormatException.class, () -> TorchWeights.load(lenet, LoadLimits.defaults().withMaxTensorBytes(1000))).getMessage();
        assertTrue(msg.contains("FloatStorage of 2400 elements needs 9600 bytes, more than the limit of 1000"), msg);
    }

    @Test
    void mutatedFilesFailOnlyWithAFormatError(@TempDir Path tmp) throws IOException {
        Random rnd = new Random(20261204);
        int loaded = 0, refused = 0;
        for (String name : List.of("lenet_state.pt", "checkpoint.pt", "dtypes.pt", "views.pt")) {
            byte[] good = Files.readAllBytes(DIR.resolve(name));
            for (int trial = 0; trial < 150; trial++) {
                byte[] bad = good.clone();
                if (trial % 10 == 9) {
                    bad = java.util.Arrays.copyOf(good, rnd.nextInt(good.length));
                } else {
                    int flips = 1 + rnd.nextInt(8);
                    for (int k = 0; k < flips; k++) bad[rnd.nextInt(bad.length)] = (byte) rnd.nextInt(256);
                }
                Path p = tmp.resolve(name);
                Files.write(p, bad);
                try {
                    TorchWeights.load(p, LoadLimits.forHeap(256L << 20));
                    loaded++;
                } catch (KilnFormatException expected) {
                    refused++;
                } catch (Throwable t) {
                    throw new AssertionError(name + " trial " + trial + ": " + t, t);
                }
            }
        }
        assertTrue(refused > 100 && loaded + refused == 600, loaded + " loaded, " + refused + " refused");
    }
}
