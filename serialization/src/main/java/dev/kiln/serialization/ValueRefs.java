package dev.kiln.serialization;

import dev.kiln.graph.Value;

/**
 * References to SSA values as strings: {@code "input:x"}, {@code "param:fc1.weight"},
 * {@code "const:c0"}, {@code "node:7"}, and since 1.3 {@code "node:7.1"} for output 1 of a
 * control-flow node. The kind prefix keeps an input named "7" apart from node 7, which the text
 * form's {@code %} cannot.
 */
final class ValueRefs {
    private ValueRefs() {}

    static String write(Value v) {
        return switch (v.kind()) {
            case INPUT -> "input:" + v.name();
            case PARAM -> "param:" + v.name();
            case CONST -> "const:" + v.name();
            case NODE -> "node:" + v.name();
        };
    }

    /** Parses a reference; whether it is defined is checked by the reader. */
    static Value read(Json f) {
        String s = f.string();
        int colon = s.indexOf(':');
        if (colon < 0) throw f.error("'" + TypeCodec.abbreviate(s) + "' is not a value reference (expected input:NAME, param:NAME, const:NAME or node:ID)");
        String name = s.substring(colon + 1);
        switch (s.substring(0, colon)) {
            case "input": return Value.input(Names.check(f, name));
            case "param": return Value.param(Names.check(f, name));
            case "const": return Value.constant(Names.check(f, name));
            case "node": return node(f, s, name);
            default:
                throw f.error("unknown value kind '" + TypeCodec.abbreviate(s.substring(0, colon)) + "' (expected input, param, const or node)");
        }
    }

    /** {@code ID} or {@code ID.K}: one spelling per value, so no leading zeros and output 0 only as {@code ID}. */
    private static Value node(Json f, String s, String name) {
        if (name.matches("[1-9][0-9]{0,8}\\.0")) {
            throw f.error("'" + s + "' spells output 0 with .0; write node:" + name.substring(0, name.length() - 2) + " (one spelling per value)");
        }
        if (!name.matches("[1-9][0-9]{0,8}(\\.[1-9][0-9]{0,8})?")) {
            throw f.error("'" + TypeCodec.abbreviate(s) + "' does not name a node output (node:ID or node:ID.K, positive integers without leading zeros)");
        }
        int dot = name.indexOf('.');
        if (dot < 0) return Value.node(Integer.parseInt(name));
        return Value.output(Integer.parseInt(name.substring(0, dot)), Integer.parseInt(name.substring(dot + 1)));
    }
}
