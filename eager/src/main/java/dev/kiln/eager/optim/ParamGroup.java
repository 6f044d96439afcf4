package dev.kiln.eager.optim;

import dev.kiln.eager.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parameters that share optimizer options (lr, momentum, ...). Options use PyTorch's keys
 * ("lr", "weight_decay", "betas") so a state dict reads like PyTorch's; values are Double,
 * Boolean or, for "betas", a two-element List of Double. Schedulers change options in place.
 */
public final class ParamGroup {
    private final List<Tensor> params;
    private final Map<String, Object> options = new LinkedHashMap<>();

    private ParamGroup(List<Tensor> params, Map<String, Object> overrides) {
        if (params == null || params.isEmpty()) throw new IllegalArgumentException("ParamGroup: empty parameter list");
        for (int i = 0; i < params.size(); i++) {
            if (params.get(i) == null) throw new IllegalArgumentException("ParamGroup: parameter " + i + " is null");
        }
        this.params = List.copyOf(params);
        overrides.forEach(this::set);
    }

    /** A group that takes every option from the optimizer's defaults. */
    public static ParamGroup of(List<Tensor> params) { return new ParamGroup(params, Map.of()); }

    /** A group with its own values for some options (e.g. {@code Map.of("lr", 0.1)}). */
    public static ParamGroup of(List<Tensor> params, Map<String, ?> overrides) {
        return new ParamGroup(params, new LinkedHashMap<>(overrides));
    }

    public List<Tensor> params() { return params; }

    /** A read-only view of the options. */
    public Map<String, Object> options() { return Collections.unmodifiableMap(options); }

    public boolean has(String key) { return options.containsKey(key); }

    public Object get(String key) {
        Object v = options.get(key);
        if (v == null) throw new IllegalStateException("param group has no option '" + key + "' (has " + options.keySet() + ")");
        return v;
    }

    public double getDouble(String key) {
        Object v = get(key);
        if (!(v instanceof Number)) throw new IllegalStateException("option '" + key + "' is not a number: " + v);
        return ((Number) v).doubleValue();
    }

    public boolean getBoolean(String key) {
        Object v = get(key);
        if (!(v instanceof Boolean)) throw new IllegalStateException("option '" + key + "' is not a boolean: " + v);
        return (Boolean) v;
    }

    /** (beta1, beta2) of the Adam family. */
    public double[] betas() {
        Object v = get("betas");
        if (!(v instanceof List<?> l) || l.size() != 2 || !(l.get(0) instanceof Number) || !(l.get(1) instanceof Number)) {
            throw new IllegalStateException("option 'betas' must be a list of two numbers, got " + v);
        }
        return new double[] {((Number) l.get(0)).doubleValue(), ((Number) l.get(1)).doubleValue()};
    }

    public double lr() { return getDouble("lr"); }

    public void setLr(double lr) { set("lr", lr); }

    /** Sets an option; numbers are stored as Double, betas as an immutable list. */
    public void set(String key, Object value) {
        if (key == null || value == null) throw new IllegalArgumentException("ParamGroup.set: null key or value (" + key + ")");
        if (key.equals("params")) throw new IllegalArgumentException("ParamGroup.set: 'params' is not an option");
        options.put(key, normalize(key, value));
    }

    void setDefault(String key, Object value) {
        if (!options.containsKey(key)) set(key, value);
    }

    private static Object normalize(String key, Object value) {
        if (value instanceof Boolean) return value;
        if (value instanceof Number n) return n.doubleValue();
        if (value instanceof double[] a) {
            List<Double> l = new ArrayList<>();
            for (double d : a) l.add(d);
            value = l;
        }
        if (value instanceof List<?> l) {
            List<Double> out = new ArrayList<>();
            for (Object o : l) {
                if (!(o instanceof Number n)) throw new IllegalArgumentException("option '" + key + "': list element " + o + " is not a number");
                out.add(n.doubleValue());
            }
            return List.copyOf(out);
        }
        if (value instanceof String) return value;
        throw new IllegalArgumentException("option '" + key + "': unsupported value type " + value.getClass().getSimpleName());
    }

    @Override
    public String toString() { return "ParamGroup(" + params.size() + " params, " + options + ")"; }
}
