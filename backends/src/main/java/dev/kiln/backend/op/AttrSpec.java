package dev.kiln.backend.op;

import dev.kiln.backend.DType;
import java.util.Arrays;
import java.util.List;

/**
 * One attribute of an op's schema: name, type, default (null = required) and the checks on
 * its value. Checks run wherever attrs enter the system: eager calls, the verifier and the
 * JSON loader, so a bad value is rejected with the same message everywhere.
 */
public record AttrSpec(String name, AttrType type, Object defaultValue, boolean optional,
                       long min, long max, List<String> choices) {

    public static AttrSpec integer(String name) { return new AttrSpec(name, AttrType.INT, null, false, Long.MIN_VALUE, Long.MAX_VALUE, null); }

    public static AttrSpec integer(String name, int def) { return new AttrSpec(name, AttrType.INT, def, false, Long.MIN_VALUE, Long.MAX_VALUE, null); }

    public static AttrSpec ints(String name) { return new AttrSpec(name, AttrType.INTS, null, false, Long.MIN_VALUE, Long.MAX_VALUE, null); }

    public static AttrSpec ints(String name, int[] def) { return new AttrSpec(name, AttrType.INTS, def, false, Long.MIN_VALUE, Long.MAX_VALUE, null); }

    /** A target shape (reshape's, expand's): integers, -1, or symbolic sizes from a trace. */
    public static AttrSpec shape(String name) { return new AttrSpec(name, AttrType.SHAPE, null, false, -1, Integer.MAX_VALUE, null); }

    public static AttrSpec real(String name, double def) { return new AttrSpec(name, AttrType.FLOAT, def, false, 0, 0, null); }

    public static AttrSpec real(String name) { return new AttrSpec(name, AttrType.FLOAT, null, false, 0, 0, null); }

    /** A float attribute that may be absent (e.g. clamp's min). */
    public static AttrSpec optionalReal(String name) { return new AttrSpec(name, AttrType.FLOAT, null, true, 0, 0, null); }

    /** An integer attribute that may be absent (e.g. argmax's dim: absent = over all elements). */
    public static AttrSpec optionalInt(String name) { return new AttrSpec(name, AttrType.INT, null, true, Long.MIN_VALUE, Long.MAX_VALUE, null); }

    /** A dtype attribute that may be absent (absent = keep the input's). */
    public static AttrSpec optionalDtype(String name) { return new AttrSpec(name, AttrType.DTYPE, null, true, 0, 0, null); }

    public static AttrSpec bool(String name, boolean def) { return new AttrSpec(name, AttrType.BOOL, def, false, 0, 0, null); }

    public static AttrSpec choice(String name, String def, String... choices) {
        return new AttrSpec(name, AttrType.STRING, def, false, 0, 0, List.of(choices));
    }

    public static AttrSpec dtype(String name) { return new AttrSpec(name, AttrType.DTYPE, null, false, 0, 0, null); }

    public AttrSpec range(long lo, long hi) { return new AttrSpec(name, type, defaultValue, optional, lo, hi, choices); }

    public boolean required() { return defaultValue == null && !optional; }

    /** Checks and normalizes a value; the message names op and attribute. */
    private String where(String op) { return op + ": attribute '" + name + "'"; }

    Object check(String op, Object v) {
        // the message prefix is built only on failure: this runs for every attribute of every eager op
        switch (type) {
            case INT -> {
                if (!(v instanceof Integer || v instanceof Long)) throw new IllegalArgumentException(where(op) + " must be an integer, got " + describe(v));
                long x = ((Number) v).longValue();
                if (x < min || x > max) throw new IllegalArgumentException(where(op) + " = " + x + " is out of range [" + min + ", " + max + "]");
                if (x != (int) x) throw new IllegalArgumentException(where(op) + " = " + x + " does not fit in an int");
                return (int) x;
            }
            case INTS -> {
                if (!(v instanceof int[] a)) throw new IllegalArgumentException(where(op) + " must be a list of integers, got " + describe(v));
                for (int x : a) {
                    if (x < min || x > max) throw new IllegalArgumentException(where(op) + " has element " + x + " out of range [" + min + ", " + max + "]");
                }
                return a.clone();
            }
            case SHAPE -> {
                if (v instanceof SymbolicShape s) {
                    int[] c = s.concrete();
                    return c != null ? c : s; // numbers stay int[]: only truly symbolic shapes carry Dims
                }
                if (!(v instanceof int[] a)) throw new IllegalArgumentException(where(op) + " must be a list of sizes, got " + describe(v));
                for (int x : a) if (x < -1) throw new IllegalArgumentException(where(op) + " has size " + x + " (sizes are >= 0, or -1)");
                return a.clone();
            }
            case FLOAT -> {
                if (!(v instanceof Number n)) throw new IllegalArgumentException(where(op) + " must be a number, got " + describe(v));
                return n.doubleValue();
            }
            case BOOL -> {
                if (!(v instanceof Boolean)) throw new IllegalArgumentException(where(op) + " must be a boolean, got " + describe(v));
                return v;
            }
            case STRING -> {
                if (!(v instanceof String s)) throw new IllegalArgumentException(where(op) + " must be a string, got " + describe(v));
                if (choices != null && !choices.contains(s)) throw new IllegalArgumentException(where(op) + " = '" + s + "' is not one of " + choices);
                return s;
            }
            case DTYPE -> {
                if (!(v instanceof DType)) throw new IllegalArgumentException(where(op) + " must be a dtype, got " + describe(v));
                return v;
            }
            default -> throw new AssertionError(type);
        }
    }

    private static String describe(Object v) {
        if (v == null) return "nothing";
        if (v instanceof int[] a) return Arrays.toString(a);
        return v.getClass().getSimpleName() + " " + v;
    }
}
