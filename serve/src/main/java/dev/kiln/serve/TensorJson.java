package dev.kiln.serve;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Tensors as nested JSON arrays. Parsing streams the tokens (no tree) straight into a flat array
 * of the input's declared dtype and infers the shape from the nesting, so a ragged array is
 * reported where it happens. Floats are parsed from the token text with {@link Float#parseFloat}
 * (not through double, which could round twice) and written with the shortest text that reads
 * back to the same bits; non-finite values travel as the strings "NaN", "Infinity", "-Infinity".
 */
final class TensorJson {
    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).maxNumberLength(64).maxStringLength(1 << 16).build())
            .build();

    private TensorJson() {}

    /** {@code {"inputs": {NAME: nested arrays, ...}}}; {@code dtypes} gives each known input's dtype. */
    static Map<String, Strided> parseInputs(byte[] body, Map<String, DType> dtypes, int maxRank) {
        try (JsonParser p = JSON.createParser(body)) {
            expect(p.nextToken() == JsonToken.START_OBJECT, "the body must be a JSON object {\"inputs\": {...}}");
            Map<String, Strided> out = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                expect(key.equals("inputs"), "unknown field '" + abbreviate(key) + "' (the body is {\"inputs\": {NAME: array, ...}})");
                expect(p.nextToken() == JsonToken.START_OBJECT, "inputs must be an object {NAME: array, ...}");
                out = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    DType dtype = dtypes.get(name);
                    if (dtype == null) throw new ApiException(400, "the model has no input named '" + abbreviate(name) + "' (its inputs: " + String.join(", ", dtypes.keySet()) + ")");
                    p.nextToken();
                    out.put(name, tensor(p, "inputs." + name, dtype, maxRank));
                }
            }
            expect(out != null, "the body has no \"inputs\" field");
            expect(p.nextToken() == null, "trailing content after the JSON object");
            return out;
        } catch (JsonProcessingException e) {
            throw new ApiException(400, "malformed JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""));
        } catch (IOException e) {
            throw new ApiException(400, "malformed JSON: " + e.getMessage());
        }
    }

    /** One tensor starting at the parser's current token (an array, or a scalar for rank 0). */
    private static Strided tensor(JsonParser p, String path, DType dtype, int maxRank) throws IOException {
        Flat data = new Flat(dtype);
        int[] shape = new int[maxRank];
        Arrays.fill(shape, -1);
        int[] counts = new int[maxRank];
        int rank = -1;
        int depth = -1; // index of the innermost open array
        do {
            JsonToken t = p.currentToken();
            if (t == JsonToken.START_ARRAY) {
                if (rank >= 0 && depth + 1 >= rank) throw ragged(path, "an array where a number belongs");
                if (depth + 1 >= maxRank) throw new ApiException(400, path + ": nested deeper than the maximum rank " + maxRank);
                if (depth >= 0) counts[depth]++;
                counts[++depth] = 0;
            } else if (t == JsonToken.END_ARRAY) {
                int n = counts[depth];
                if (n == 0 && rank < 0) rank = depth + 1;
                if (n == 0 && depth + 1 != rank) throw ragged(path, "an empty array where arrays of numbers belong");
                if (shape[depth] < 0) shape[depth] = n;
                else if (shape[depth] != n) throw ragged(path, "dim " + depth + " has lengths " + shape[depth] + " and " + n);
                depth--;
            } else {
                if (rank < 0) rank = depth + 1;
                else if (depth + 1 != rank) throw ragged(path, "a number where an array belongs");
                if (depth >= 0) counts[depth]++;
                data.add(p, path);
            }
        } while (depth >= 0 && p.nextToken() != null);
        expect(depth < 0, path + ": the array is not closed");
        return data.toTensor(Arrays.copyOf(shape, rank), path);
    }

    private static ApiException ragged(String path, String what) {
        return new ApiException(400, path + ": ragged array (" + what + ")");
    }

    private static void expect(boolean ok, String message) {
        if (!ok) throw new ApiException(400, message);
    }

    static String abbreviate(String s) { return s.length() <= 64 ? s : s.substring(0, 61) + "..."; }

    /** {@code {"outputs": {NAME: nested arrays, ...}}}. */
    static byte[] writeOutputs(Map<String, Strided> outputs) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(bytes)) {
            g.writeStartObject();
            g.writeFieldName("outputs");
            g.writeStartObject();
            for (Map.Entry<String, Strided> e : outputs.entrySet()) {
                g.writeFieldName(e.getKey());
                Strided c = Copy.contiguousOf(e.getValue(), e.getValue().dtype());
                write(g, c, 0, c.offset());
            }
            g.writeEndObject();
            g.writeEndObject();
        }
        bytes.write('\n');
        return bytes.toByteArray();
    }

    /** Writes dims {@code d..} of a contiguous tensor starting at flat index {@code at}; returns the next index. */
    private static int write(JsonGenerator g, Strided t, int d, int at) throws IOException {
        if (d == t.rank()) {
            Storage s = t.storage();
            switch (t.dtype()) {
                case FLOAT32 -> g.writeNumber(s.f32()[at]);
                case FLOAT64 -> g.writeNumber(s.f64()[at]);
                case INT64 -> g.writeNumber(s.i64()[at]);
                case BOOL -> g.writeBoolean(s.bool()[at]);
            }
            return at + 1;
        }
        g.writeStartArray();
        for (int i = 0; i < t.shape()[d]; i++) at = write(g, t, d + 1, at);
        g.writeEndArray();
        return at;
    }

    /** A growing flat buffer of one dtype, filled from JSON scalars. */
    static final class Flat {
        final DType dtype;
        float[] f = new float[0];
        double[] d = new double[0];
        long[] l = new long[0];
        boolean[] b = new boolean[0];
        int n;

        Flat(DType dtype) {
            this.dtype = dtype;
            switch (dtype) {
                case FLOAT32 -> f = new float[16];
                case FLOAT64 -> d = new double[16];
                case INT64 -> l = new long[16];
                case BOOL -> b = new boolean[16];
            }
        }

        void add(JsonParser p, String path) throws IOException {
            JsonToken t = p.currentToken();
            switch (dtype) {
                case FLOAT32 -> {
                    if (n == f.length) f = Arrays.copyOf(f, 2 * n);
                    f[n++] = (float) real(p, t, path, true);
                }
                case FLOAT64 -> {
                    if (n == d.length) d = Arrays.copyOf(d, 2 * n);
                    d[n++] = real(p, t, path, false);
                }
                case INT64 -> {
                    if (t != JsonToken.VALUE_NUMBER_INT) throw wrongType(path, t, "integers (the input is i64)");
                    if (n == l.length) l = Arrays.copyOf(l, 2 * n);
                    try {
                        l[n++] = Long.parseLong(p.getText());
                    } catch (NumberFormatException e) {
                        throw new ApiException(400, path + ": " + abbreviate(p.getText()) + " does not fit in i64");
                    }
                }
                case BOOL -> {
                    if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) throw wrongType(path, t, "true/false (the input is bool)");
                    if (n == b.length) b = Arrays.copyOf(b, 2 * n);
                    b[n++] = t == JsonToken.VALUE_TRUE;
                }
            }
        }

        private static double real(JsonParser p, JsonToken t, String path, boolean f32) throws IOException {
            String what = f32 ? "numbers (the input is f32)" : "numbers (the input is f64)";
            if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
                return f32 ? Float.parseFloat(p.getText()) : Double.parseDouble(p.getText());
            }
            if (t == JsonToken.VALUE_STRING) {
                switch (p.getText()) {
                    case "NaN": return Double.NaN;
                    case "Infinity": return Double.POSITIVE_INFINITY;
                    case "-Infinity": return Double.NEGATIVE_INFINITY;
                    default: throw wrongType(path, t, what);
                }
            }
            throw wrongType(path, t, what);
        }

        private static ApiException wrongType(String path, JsonToken t, String expected) {
            String got = switch (t) {
                case VALUE_TRUE, VALUE_FALSE -> "a boolean";
                case VALUE_STRING -> "a string";
                case VALUE_NULL -> "null";
                case START_OBJECT -> "an object";
                case VALUE_NUMBER_FLOAT -> "a fractional number";
                default -> "a number";
            };
            return new ApiException(400, path + ": expected " + expected + ", got " + got);
        }

        Strided toTensor(int[] shape, String path) {
            long numel = 1;
            for (int s : shape) {
                if (s < 0) throw new ApiException(400, path + ": shape " + Arrays.toString(shape) + " has a negative dim");
                numel = numel > n ? numel : numel * s; // past n it is wrong already, and cannot overflow
            }
            if (numel != n) throw new ApiException(400, path + ": ragged array (" + n + " numbers for shape " + Arrays.toString(shape) + ")");
            Storage s = switch (dtype) {
                case FLOAT32 -> Storage.wrap(Arrays.copyOf(f, n));
                case FLOAT64 -> Storage.wrap(Arrays.copyOf(d, n));
                case INT64 -> Storage.wrap(Arrays.copyOf(l, n));
                case BOOL -> Storage.wrap(Arrays.copyOf(b, n));
            };
            return Strided.contiguous(s, shape);
        }
    }
}
