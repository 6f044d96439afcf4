package dev.kiln.serialization;

import dev.kiln.graph.Value;

/**
 * References to SSA values as strings: {@code "input:x"}, {@code "param:fc1.weight"},
 * {@code "const:c0"}, {@code "node:7"}. The kind prefix keeps an input named "7" apart from
 * node 7, which the text form's {@code %} cannot.
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
            case "node":
                if (!name.matches("[1-9][0-9]{0,8}")) throw f.error("'" + TypeCodec.abbreviate(s) + "' does not name a node id (a positive integer)");
                return Value.node(Integer.parseInt(name));
            default:
                throw f.error("unknown value kind '" + TypeCodec.abbreviate(s.substring(0, colon)) + "' (expected input, param, const or node)");
        }
    }
}
