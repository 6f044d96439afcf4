package dev.kiln.serialization;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.backend.Strided;
import dev.kiln.backend.state.StateFormat;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * State trees (training checkpoints) as safetensors files. Every tensor is an ordinary entry named
 * by its path in the tree ({@code model/fc1.weight}, {@code optimizer/state/0/exp_avg}), so
 * Python reads them with {@code safetensors.torch.load_file}. The rest of the tree (epoch,
 * hyperparameters, step counts, generator states) is JSON in the metadata entry
 * {@code kiln.state}, a tensor written there as {@code {"$tensor": NAME}}, a long as
 * {@code {"$long": "N"}} and a non-finite double as {@code {"$double": "NaN"}}, so every Java type
 * comes back as it went in. Reading checks the file as untrusted, like every Kiln loader.
 */
public final class SafetensorsStateFormat implements StateFormat {
    static final String TREE = "kiln.state", FORMAT = "kiln.state.format", VERSION = "1";

    @Override
    public String extension() { return ".safetensors"; }

    @Override
    public void write(Path file, Map<String, Object> tree) throws IOException {
        Map<String, Strided> tensors = new LinkedHashMap<>();
        StringWriter json = new StringWriter();
        try (JsonGenerator g = new JsonFactory().createGenerator(json)) {
            write(g, tree, "", tensors);
        }
        Safetensors.write(file, tensors, Map.of(FORMAT, VERSION, TREE, json.toString()));
    }

    private static void write(JsonGenerator g, Object v, String path, Map<String, Strided> tensors) throws IOException {
        if (v == null) g.writeNull();
        else if (v instanceof Boolean b) g.writeBoolean(b);
        else if (v instanceof Integer i) g.writeNumber(i);
        else if (v instanceof Long l) {
            g.writeStartObject();
            g.writeStringField("$long", Long.toString(l));
            g.writeEndObject();
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isFinite(d)) g.writeNumber(d); // Jackson writes 1.0, not 1: read back as a double
            else {
                g.writeStartObject();
                g.writeStringField("$double", Double.toString(d));
                g.writeEndObject();
            }
        } else if (v instanceof String s) g.writeString(s);
        else if (v instanceof Strided t) {
            String name = path.isEmpty() ? "tensor" : path;
            if (tensors.containsKey(name)) throw new IllegalArgumentException("two tensors of the state tree are both named '" + name + "'");
            tensors.put(name, t);
            g.writeStartObject();
            g.writeStringField("$tensor", name);
            g.writeEndObject();
        } else if (v instanceof List<?> list) {
            g.writeStartArray();
            for (int i = 0; i < list.size(); i++) write(g, list.get(i), join(path, Integer.toString(i)), tensors);
            g.writeEndArray();
        } else if (v instanceof Map<?, ?> map) {
            g.writeStartObject();
            for (var e : map.entrySet()) {
                if (!(e.getKey() instanceof String k)) throw new IllegalArgumentException("state tree key " + e.getKey() + " at '" + path + "' is not a string");
                if (k.startsWith("$")) throw new IllegalArgumentException("state tree key '" + k + "' at '" + path + "' may not start with '$' (reserved for typed values)");
                g.writeFieldName(k);
                write(g, e.getValue(), join(path, k), tensors);
            }
            g.writeEndObject();
        } else {
            throw new IllegalArgumentException("state tree value at '" + path + "' is a " + v.getClass().getName() + "; a checkpoint holds maps, lists, numbers, strings, booleans and tensors");
        }
    }

    private static String join(String path, String key) { return path.isEmpty() ? key : path + "/" + key; }

    @Override
    public Map<String, Object> read(Path file) throws IOException {
        String what = file.getFileName().toString();
        LoadLimits limits = LoadLimits.defaults();
        try (SafetensorsFile f = SafetensorsFile.open(file, limits)) {
            String format = f.metadata().get(FORMAT), tree = f.metadata().get(TREE);
            if (tree == null || format == null) {
                throw KilnFormatException.at(what, "is a safetensors file without Kiln's state metadata (__metadata__." + TREE + "): weights only, not a checkpoint");
            }
            if (!format.equals(VERSION)) throw KilnFormatException.at(what + ".__metadata__." + FORMAT, "state format " + format + " is not one this Kiln reads (" + VERSION + ")");
            JsonNode root = StrictJson.parse(tree.getBytes(StandardCharsets.UTF_8), limits, what + " " + TREE);
            Set<String> used = new HashSet<>();
            Object out = read(new Json(root, TREE), f, used);
            if (!(out instanceof Map<?, ?>)) throw KilnFormatException.at(what + "." + TREE, "must be an object");
            for (String name : f.entries().keySet()) {
                if (!used.contains(name)) throw KilnFormatException.at(what + "." + name, "is not referenced by the state tree");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) out;
            return m;
        }
    }

    private static Object read(Json j, SafetensorsFile f, Set<String> used) throws IOException {
        JsonNode n = j.node();
        if (n.isNull()) return null;
        if (n.isBoolean()) return n.booleanValue();
        if (n.isInt()) return n.intValue();
        if (n.isIntegralNumber()) throw j.error("integer " + n.asText() + " does not fit an int (longs are written as {\"$long\": ...})");
        if (n.isDouble() || n.isFloatingPointNumber()) return n.doubleValue();
        if (n.isTextual()) return n.textValue();
        if (n.isArray()) {
            List<Object> out = new ArrayList<>();
            for (int i = 0; i < n.size(); i++) out.add(read(new Json(n.get(i), j.path() + "[" + i + "]"), f, used));
            return out;
        }
        if (n.size() == 1 && n.has("$tensor")) {
            String name = j.get("$tensor").string();
            if (!f.entries().containsKey(name)) throw j.error("names tensor '" + name + "', which the file does not hold");
            if (!used.add(name)) throw j.error("names tensor '" + name + "' a second time");
            return f.read(name);
        }
        if (n.size() == 1 && n.has("$long")) {
            try {
                return Long.parseLong(j.get("$long").string());
            } catch (NumberFormatException e) {
                throw j.error("$long must be a decimal integer, got '" + n.get("$long").asText() + "'");
            }
        }
        if (n.size() == 1 && n.has("$double")) {
            String d = j.get("$double").string();
            return switch (d) {
                case "NaN" -> Double.NaN;
                case "Infinity" -> Double.POSITIVE_INFINITY;
                case "-Infinity" -> Double.NEGATIVE_INFINITY;
                default -> throw j.error("$double must be NaN, Infinity or -Infinity, got '" + d + "'");
            };
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (k.startsWith("$")) throw j.error("key '" + k + "' is reserved for typed values");
            out.put(k, read(new Json(n.get(k), j.child(k)), f, used));
        }
        return out;
    }
}
