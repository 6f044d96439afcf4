package dev.kiln.serialization;

/**
 * Rules for names of graphs, inputs, parameters and constants: printable, bounded, so that
 * error messages, the text form and DOT output (which quotes names) stay readable and cannot
 * be spoofed by control characters or broken by quotes.
 */
final class Names {
    static final int MAX_LENGTH = 256;

    private Names() {}

    static String check(Json f, String name) {
        if (name.isEmpty()) throw f.error("name is empty");
        if (name.length() > MAX_LENGTH) throw f.error("name of " + name.length() + " characters exceeds " + MAX_LENGTH);
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isISOControl(c) || c == '"' || c == '\\') {
                throw f.error("name '" + TypeCodec.abbreviate(name.replaceAll("\\p{Cntrl}", "?")) + "' contains a quote, backslash or control character");
            }
        }
        return name;
    }

    static String check(Json f) { return check(f, f.string()); }
}
