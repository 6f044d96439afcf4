package dev.kiln.tests.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** Reads the PyTorch fixtures written by tests/tools/gen_fixtures.py. */
final class Fixtures {
    private Fixtures() {}

    /** One file per op family, under src/test/resources/fixtures. */
    static final List<String> FAMILIES = List.of("unary", "binary", "reduction", "linalg", "shape", "index");

    private static final ObjectMapper JSON = new ObjectMapper();

    static List<JsonNode> cases(String family) {
        String path = "/fixtures/" + family + ".json";
        try (InputStream in = Fixtures.class.getResourceAsStream(path)) {
            if (in == null) throw new IllegalStateException("missing fixture " + path + "; run tests/tools/gen_fixtures.py");
            List<JsonNode> out = new ArrayList<>();
            JSON.readTree(in).get("cases").forEach(out::add);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** nan / inf / -inf are strings in the JSON (it has no literals for them). */
    static double number(JsonNode v) {
        if (v.isTextual()) {
            return switch (v.asText()) {
                case "nan" -> Double.NaN;
                case "inf" -> Double.POSITIVE_INFINITY;
                case "-inf" -> Double.NEGATIVE_INFINITY;
                default -> throw new IllegalArgumentException("not a number: " + v);
            };
        }
        return v.asDouble();
    }

    static int[] ints(JsonNode arr) {
        int[] r = new int[arr.size()];
        for (int i = 0; i < r.length; i++) r[i] = arr.get(i).asInt();
        return r;
    }

    /** A fresh contiguous tensor: {dtype, shape, data (flat, row-major)}. */
    static Tensor tensor(JsonNode t) {
        DType dt = DType.fromShortName(t.get("dtype").asText());
        int[] shape = ints(t.get("shape"));
        JsonNode d = t.get("data");
        int n = d.size();
        return switch (dt) {
            case FLOAT32 -> {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) v[i] = (float) number(d.get(i));
                yield Tensor.of(v, shape);
            }
            case FLOAT64 -> {
                double[] v = new double[n];
                for (int i = 0; i < n; i++) v[i] = number(d.get(i));
                yield Tensor.of(v, shape);
            }
            case INT64 -> {
                long[] v = new long[n];
                for (int i = 0; i < n; i++) v[i] = d.get(i).asLong();
                yield Tensor.of(v, shape);
            }
            case BOOL -> {
                boolean[] v = new boolean[n];
                for (int i = 0; i < n; i++) v[i] = d.get(i).asBoolean();
                yield Tensor.of(v, shape);
            }
        };
    }

    /** The view transform a case applies to an input before the call (same in PyTorch). */
    static Tensor view(Tensor t, JsonNode v) {
        if (v == null || v.isNull()) return t;
        return switch (v.get("kind").asText()) {
            case "transpose" -> t.transpose(-2, -1);
            case "slice_step2" -> t.slice(0, 0, Integer.MAX_VALUE, 2);
            case "expand" -> t.expand(ints(v.get("shape")));
            default -> throw new IllegalArgumentException("unknown view " + v);
        };
    }
}
