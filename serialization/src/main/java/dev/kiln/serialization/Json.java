package dev.kiln.serialization;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * A JSON tree node together with its path from the document root ({@code nodes[4].attrs.dim}).
 * Every accessor checks the JSON type and fails with a {@link KilnFormatException} naming the
 * path, so the reader never sees a null or a wrong type.
 */
record Json(JsonNode node, String path) {

    static Json root(JsonNode n) { return new Json(n, ""); }

    String child(String key) { return path.isEmpty() ? key : path + "." + key; }

    KilnFormatException error(String problem) { return KilnFormatException.at(path, problem); }

    boolean has(String key) { return node.has(key) && !node.get(key).isNull(); }

    Json get(String key) {
        JsonNode c = node.get(key);
        if (c == null || c.isNull()) throw KilnFormatException.at(child(key), "is required");
        return new Json(c, child(key));
    }

    Json object() {
        if (!node.isObject()) throw error("must be an object, got " + kind(node));
        return this;
    }

    /** Rejects keys other than {@code allowed}, so typos and smuggled fields do not pass silently. */
    Json onlyKeys(Set<String> allowed, boolean lenient) {
        object();
        if (lenient) return this;
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!allowed.contains(k)) throw KilnFormatException.at(child(k), "unknown field (expected one of " + new java.util.TreeSet<>(allowed) + ")");
        }
        return this;
    }

    List<Json> array() {
        if (!node.isArray()) throw error("must be an array, got " + kind(node));
        List<Json> out = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) out.add(new Json(node.get(i), path + "[" + i + "]"));
        return out;
    }

    /** An optional array: empty when the key is absent. */
    List<Json> arrayOrEmpty(String key) { return has(key) ? get(key).array() : List.of(); }

    String string() {
        if (!node.isTextual()) throw error("must be a string, got " + kind(node));
        return node.textValue();
    }

    String string(String key) { return get(key).string(); }

    String stringOrNull(String key) { return has(key) ? get(key).string() : null; }

    boolean bool() {
        if (!node.isBoolean()) throw error("must be true or false, got " + kind(node));
        return node.booleanValue();
    }

    /** A JSON integer that fits in a long (no fractions, no exponents that hide one). */
    long longValue() {
        if (!node.isIntegralNumber()) throw error("must be an integer, got " + kind(node));
        if (!node.canConvertToLong()) throw error("integer " + node.asText() + " is out of range");
        return node.longValue();
    }

    int intValue() {
        long v = longValue();
        if (v != (int) v) throw error("integer " + v + " is out of range for a 32-bit int");
        return (int) v;
    }

    /** A number, or one of the strings "NaN", "Infinity", "-Infinity" (JSON has no literal for them). */
    double doubleValue() {
        if (node.isNumber()) return node.doubleValue();
        if (node.isTextual()) {
            switch (node.textValue()) {
                case "NaN": return Double.NaN;
                case "Infinity": return Double.POSITIVE_INFINITY;
                case "-Infinity": return Double.NEGATIVE_INFINITY;
                default: break;
            }
        }
        throw error("must be a number (or \"NaN\", \"Infinity\", \"-Infinity\"), got " + kind(node));
    }

    static String kind(JsonNode n) {
        if (n.isObject()) return "an object";
        if (n.isArray()) return "an array";
        if (n.isTextual()) return "a string";
        if (n.isBoolean()) return "a boolean";
        if (n.isNumber()) return "the number " + n.asText();
        if (n.isNull()) return "null";
        return n.getNodeType().toString().toLowerCase();
    }
}
