package dev.kiln.backend.op;

import dev.kiln.backend.DType;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** Immutable attribute values of one op application, ordered by name for stable printing. */
public final class Attrs {
    public static final Attrs EMPTY = new Attrs(Collections.emptyMap());

    private final Map<String, Object> values;

    private Attrs(Map<String, Object> values) { this.values = values; }

    /** {@code Attrs.of("dim", 1, "keepdim", true)}. */
    public static Attrs of(Object... kv) {
        if (kv.length == 0) return EMPTY;
        if (kv.length % 2 != 0) throw new IllegalArgumentException("Attrs.of needs name/value pairs");
        TreeMap<String, Object> m = new TreeMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            if (kv[i + 1] != null) m.put((String) kv[i], kv[i + 1]);
        }
        return new Attrs(Collections.unmodifiableMap(m));
    }

    public static Attrs ofMap(Map<String, Object> m) {
        if (m.isEmpty()) return EMPTY;
        return new Attrs(Collections.unmodifiableMap(new TreeMap<>(m)));
    }

    /** Takes ownership of a sorted map the caller built and will not touch again (no copy). */
    static Attrs ofSorted(TreeMap<String, Object> m) {
        return m.isEmpty() ? EMPTY : new Attrs(Collections.unmodifiableMap(m));
    }

    public boolean has(String name) { return values.containsKey(name); }

    public Set<String> names() { return values.keySet(); }

    public Object get(String name) { return values.get(name); }

    public Map<String, Object> asMap() { return values; }

    public int getInt(String name) { return (Integer) require(name); }

    public int[] getInts(String name) { return ((int[]) require(name)).clone(); }

    public double getFloat(String name) { return (Double) require(name); }

    public boolean getBool(String name) { return (Boolean) require(name); }

    public String getString(String name) { return (String) require(name); }

    public DType getDType(String name) { return (DType) require(name); }

    /** Optional float attribute: null when absent. */
    public Double getOptionalFloat(String name) { return (Double) values.get(name); }

    /** A {@link AttrType#SHAPE} attribute as dims, null for -1 (numbers and symbolic sizes alike). */
    public dev.kiln.backend.shape.Dim[] getShape(String name) {
        Object v = require(name);
        if (v instanceof SymbolicShape s) return s.dims();
        int[] a = (int[]) v;
        dev.kiln.backend.shape.Dim[] d = new dev.kiln.backend.shape.Dim[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i] == -1 ? null : dev.kiln.backend.shape.Dim.of(a[i]);
        return d;
    }

    /** Optional integer attribute: null when absent. */
    public Integer getOptionalInt(String name) { return (Integer) values.get(name); }

    /** Optional dtype attribute: null when absent. */
    public DType getOptionalDType(String name) { return (DType) values.get(name); }

    private Object require(String name) {
        Object v = values.get(name);
        if (v == null) throw new IllegalStateException("attribute '" + name + "' is missing (the op's schema check should have filled it)");
        return v;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Attrs a) || !a.values.keySet().equals(values.keySet())) return false;
        for (var e : values.entrySet()) {
            Object x = e.getValue(), y = a.values.get(e.getKey());
            if (x instanceof int[] xi && y instanceof int[] yi) {
                if (!Arrays.equals(xi, yi)) return false;
            } else if (!x.equals(y)) return false;
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = 0;
        for (var e : values.entrySet()) {
            Object v = e.getValue();
            h += e.getKey().hashCode() ^ (v instanceof int[] a ? Arrays.hashCode(a) : v.hashCode());
        }
        return h;
    }

    /** {@code {dim=1, keepdim=true}}, the form used by the graph printer. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        boolean first = true;
        for (var e : values.entrySet()) {
            if (!first) sb.append(", ");
            first = false;
            sb.append(e.getKey()).append('=');
            Object v = e.getValue();
            if (v instanceof int[] a) sb.append(Arrays.toString(a).replace(" ", ""));
            else sb.append(v);
        }
        return sb.append('}').toString();
    }
}
