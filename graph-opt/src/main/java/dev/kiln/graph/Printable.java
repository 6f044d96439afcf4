package dev.kiln.graph;

/**
 * Text from an untrusted file made safe to print on a terminal: control characters (C0, DEL,
 * C1), line and paragraph separators and the bidirectional overrides are written as
 * {@code \\uXXXX}. Without it a model file could clear the screen, move the cursor or reorder a
 * line and print a fake {@code kiln: OK} through {@code kiln inspect} or an error message.
 */
public final class Printable {
    private Printable() {}

    public static String escape(String s) {
        if (s == null) return null;
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (unsafe(c)) {
                if (sb == null) sb = new StringBuilder(s.length() + 16).append(s, 0, i);
                sb.append(String.format("\\u%04x", (int) c));
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? s : sb.toString();
    }

    private static boolean unsafe(char c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029 || (c >= 0x202a && c <= 0x202e)
                || (c >= 0x2066 && c <= 0x2069) || c == 0x200e || c == 0x200f || c == 0x061c;
    }
}
