package dev.kiln.serialization;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded random mutations of the committed seed corpus (src/test/resources/fuzz-corpus, a
 * control-flow artifact among them): the loader must either load the mutant or throw
 * {@link KilnFormatException}, never anything else, and never hang. Half the mutants are byte- and token-level edits of the text (reaching the JSON
 * syntax checks), half are edits of the parsed tree (reaching the semantic checks).
 */
class LoaderFuzzTest {
    static final List<String> SEEDS = List.of("mlp.kiln.json", "random-graph.kiln.json", "control-flow.kiln.json");
    static final int MUTANTS_PER_SEED = 4000;
    static final String[] TOKENS = {"-1", "0", "1e309", "-0.0", "2147483648", "9223372036854775808", "99999999999999999999",
        "\"N\"", "\"2*N\"", "\"N*N\"", "null", "[]", "{}", "true", "\"NaN\"", "\"node:1\"", "\"node:999\"", "\"param:fc.weight\"",
        "\"input:x\"", "\"const:c0\"", "\"../x.safetensors\"", "\"f64\"", "\"i64\"", "\"bool\"", "\"2.0\"", "\"1.9\"", "[1073741824,1073741824,4]",
        "\"matmul\"", "\"softmax\"", "\"\"", "\"\\u0000\"",
        // format 1.3: output references, control-flow ops, a body and type lists in the wrong place
        "\"node:1.1\"", "\"node:1.2\"", "\"node:1.9\"", "\"node:1.0\"", "\"scan\"", "\"cond\"", "\"while_loop\"", "\"input:h0\"",
        "[{\"dtype\":\"f32\",\"shape\":[1,4]}]", "[{\"name\":\"b\",\"inputs\":[],\"outputs\":[],\"nodes\":[]}]"};

    static byte[] seed(String name) throws IOException {
        try (InputStream in = LoaderFuzzTest.class.getResourceAsStream("/fuzz-corpus/" + name)) {
            if (in == null) throw new IOException("seed " + name + " is missing from src/test/resources/fuzz-corpus");
            return in.readAllBytes();
        }
    }

    static byte[] mutate(byte[] doc, Random r) {
        byte[] d = doc;
        int edits = 1 + r.nextInt(3);
        for (int e = 0; e < edits; e++) {
            int at = r.nextInt(Math.max(d.length, 1));
            switch (r.nextInt(6)) {
                case 0 -> { d = d.clone(); d[at] = (byte) r.nextInt(256); }
                case 1 -> { d = d.clone(); d[at] ^= (byte) (1 << r.nextInt(8)); }
                case 2 -> d = splice(d, at, Math.min(d.length, at + r.nextInt(32)), new byte[0]);
                case 3 -> {
                    int from = r.nextInt(d.length), len = Math.min(r.nextInt(64), d.length - from);
                    d = splice(d, at, at, Arrays.copyOfRange(d, from, from + len));
                }
                default -> {
                    // replace one JSON token (a number, a string or a literal) with an interesting one
                    int start = at;
                    while (start < d.length && !isTokenStart(d[start])) start++;
                    if (start == d.length) break;
                    int end = start + 1;
                    if (d[start] == '"') { while (end < d.length && d[end] != '"') end++; end = Math.min(end + 1, d.length); }
                    else while (end < d.length && isTokenChar(d[end])) end++;
                    d = splice(d, start, end, TOKENS[r.nextInt(TOKENS.length)].getBytes(StandardCharsets.UTF_8));
                }
            }
        }
        return d;
    }

    /** Structure-aware: replace, remove or duplicate one value of the tree, so the JSON stays well formed. */
    static byte[] mutateTree(com.fasterxml.jackson.databind.JsonNode tree, Random r) throws IOException {
        com.fasterxml.jackson.databind.JsonNode copy = tree.deepCopy();
        List<com.fasterxml.jackson.databind.JsonNode> containers = new java.util.ArrayList<>();
        collect(copy, containers);
        int edits = 1 + r.nextInt(2);
        for (int e = 0; e < edits; e++) {
            com.fasterxml.jackson.databind.JsonNode c = containers.get(r.nextInt(containers.size()));
            if (c.size() == 0) continue;
            com.fasterxml.jackson.databind.JsonNode token = SmallModels.MAPPER.readTree(TOKENS[r.nextInt(TOKENS.length)]);
            if (c instanceof com.fasterxml.jackson.databind.node.ObjectNode o) {
                List<String> keys = new java.util.ArrayList<>();
                o.fieldNames().forEachRemaining(keys::add);
                String k = keys.get(r.nextInt(keys.size()));
                switch (r.nextInt(3)) {
                    case 0 -> o.remove(k);
                    case 1 -> o.set(k, token);
                    default -> o.set(k + "_", token);
                }
            } else if (c instanceof com.fasterxml.jackson.databind.node.ArrayNode a) {
                int i = r.nextInt(a.size());
                switch (r.nextInt(3)) {
                    case 0 -> a.remove(i);
                    case 1 -> a.set(i, token);
                    default -> a.add(a.get(i).deepCopy());
                }
            }
        }
        return SmallModels.MAPPER.writeValueAsBytes(copy);
    }

    private static void collect(com.fasterxml.jackson.databind.JsonNode n, List<com.fasterxml.jackson.databind.JsonNode> out) {
        if (!n.isContainerNode()) return;
        out.add(n);
        for (com.fasterxml.jackson.databind.JsonNode c : n) collect(c, out);
    }

    private static boolean isTokenStart(byte b) { return b == '"' || b == '-' || (b >= '0' && b <= '9') || b == 't' || b == 'f' || b == 'n'; }

    private static boolean isTokenChar(byte b) { return (b >= '0' && b <= '9') || b == '.' || b == 'e' || b == 'E' || b == '-' || b == '+' || (b >= 'a' && b <= 'z'); }

    private static byte[] splice(byte[] d, int from, int to, byte[] insert) {
        byte[] out = new byte[d.length - (to - from) + insert.length];
        System.arraycopy(d, 0, out, 0, from);
        System.arraycopy(insert, 0, out, from, insert.length);
        System.arraycopy(d, to, out, from + insert.length, d.length - to);
        return out;
    }

    @Test
    void mutantsLoadOrFailWithAFormatError() {
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            int loaded = 0, rejected = 0, semantic = 0;
            for (String name : SEEDS) {
                byte[] doc = seed(name);
                KilnReader.fromJson(doc, LoadLimits.defaults()); // the seed itself is valid
                Random r = new Random(name.hashCode());
                com.fasterxml.jackson.databind.JsonNode tree = SmallModels.MAPPER.readTree(doc);
                for (int i = 0; i < MUTANTS_PER_SEED; i++) {
                    byte[] m = r.nextBoolean() ? mutate(doc, r) : mutateTree(tree, r);
                    try {
                        KilnReader.fromJson(m, LoadLimits.defaults());
                        loaded++;
                    } catch (KilnFormatException e) {
                        assertFalse(e.getMessage() == null || e.getMessage().isBlank(), "empty message");
                        rejected++;
                        if (!e.getMessage().startsWith("artifact: ")) semantic++;
                    } catch (Throwable t) {
                        fail(name + " mutant " + i + " threw " + t + "\n" + new String(m, StandardCharsets.UTF_8), t);
                    }
                }
            }
            // Both outcomes must occur, and many rejections must come from the semantic checks rather
            // than the JSON parser, or the mutator is too weak (or too destructive) to test the loader.
            String stats = "loaded " + loaded + ", rejected " + rejected + " (" + semantic + " after parsing)";
            assertTrue(loaded > 100 && semantic > rejected / 4, stats);
        });
    }
}
