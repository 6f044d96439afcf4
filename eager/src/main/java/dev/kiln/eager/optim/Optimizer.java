package dev.kiln.eager.optim;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.autograd.AutogradScope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Base of the optimizers: parameter groups with per-group options, per-parameter state, and
 * PyTorch-shaped state dicts. Updates run under {@code noGrad()} with in-place Tensor ops, so
 * they go through the dispatcher like any other op (a tracer capturing a training step sees
 * them); nothing here writes into raw arrays.
 */
public abstract class Optimizer {
    private final String name;
    private final Map<String, Object> defaults;
    private final List<ParamGroup> groups = new ArrayList<>();
    private final Map<Tensor, Map<String, Object>> state = new IdentityHashMap<>();

    protected Optimizer(String name, List<ParamGroup> groups, Map<String, Object> defaults) {
        this.name = name;
        this.defaults = Collections.unmodifiableMap(new LinkedHashMap<>(defaults));
        if (groups.isEmpty()) throw new IllegalArgumentException(name + ": optimizer got an empty parameter list");
        for (ParamGroup g : groups) addParamGroup(g);
    }

    /** Adds a group (e.g. layers unfrozen during fine-tuning); missing options come from the defaults. */
    public final void addParamGroup(ParamGroup group) {
        for (String key : group.options().keySet()) {
            if (!defaults.containsKey(key)) {
                throw new IllegalArgumentException(name + ": unknown option '" + key + "' in param group " + groups.size() + "; known: " + defaults.keySet());
            }
        }
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (ParamGroup g : groups) seen.addAll(g.params());
        for (int i = 0; i < group.params().size(); i++) {
            Tensor p = group.params().get(i);
            if (!p.isLeaf()) throw new IllegalArgumentException(name + ": can't optimize a non-leaf Tensor (param group " + groups.size() + ", parameter " + i + ", " + p.typeString() + ")");
            if (!p.dtype().isFloatingPoint()) throw new IllegalArgumentException(name + ": parameter " + i + " of group " + groups.size() + " is " + p.typeString() + "; only floating-point tensors can be optimized");
            if (!seen.add(p)) throw new IllegalArgumentException(name + ": some parameters appear in more than one parameter group (group " + groups.size() + ", parameter " + i + ")");
        }
        defaults.forEach(group::setDefault);
        validate(group);
        groups.add(group);
    }

    /** Checks a group's option values; messages name the option and the value. */
    protected abstract void validate(ParamGroup group);

    /** Updates one parameter in place; called under noGrad for parameters that have a gradient. */
    protected abstract void update(Tensor param, Tensor grad, ParamGroup group, Map<String, Object> state);

    public final List<ParamGroup> paramGroups() { return Collections.unmodifiableList(groups); }

    public final Map<String, Object> defaults() { return defaults; }

    /** Per-parameter state (read-only view), empty before the first step that touched it. */
    public final Map<String, Object> state(Tensor param) {
        Map<String, Object> s = state.get(param);
        return s == null ? Map.of() : Collections.unmodifiableMap(s);
    }

    /** One optimization step over every parameter that has a gradient. */
    public void step() {
        try (AutogradScope ignored = Autograd.noGrad()) {
            for (ParamGroup g : groups) {
                for (Tensor p : g.params()) {
                    Tensor grad = p.grad();
                    if (grad == null) continue;
                    update(p, grad, g, state.computeIfAbsent(p, k -> new LinkedHashMap<>()));
                }
            }
        }
    }

    /** Re-evaluates the loss with gradients enabled, then steps; returns the closure's loss. */
    public Tensor step(Supplier<Tensor> closure) {
        Tensor loss;
        try (AutogradScope ignored = Autograd.enableGrad()) {
            loss = closure.get();
        }
        step();
        return loss;
    }

    /** Same as {@code zeroGrad(true)}: gradients become null, as in PyTorch 2. */
    public void zeroGrad() { zeroGrad(true); }

    /**
     * Clears gradients. {@code setToNull} drops them (saves memory, and step() then skips the
     * parameter); otherwise they are zeroed in place and detached from any graph.
     */
    public void zeroGrad(boolean setToNull) {
        try (AutogradScope ignored = Autograd.noGrad()) {
            for (ParamGroup g : groups) {
                for (Tensor p : g.params()) {
                    Tensor grad = p.grad();
                    if (grad == null) continue;
                    if (setToNull) {
                        p.setGrad(null);
                    } else {
                        if (grad.gradFn() != null) {
                            grad = grad.detach();
                            p.setGrad(grad);
                        }
                        grad.zero_();
                    }
                }
            }
        }
    }

    /**
     * A snapshot in PyTorch's layout: {@code "state"} maps a parameter's index (counted across
     * groups in order) to its state, {@code "param_groups"} lists each group's options plus
     * {@code "params"}, the indices of its parameters. Tensors are copies, so later steps do
     * not change a saved dict.
     */
    public Map<String, Object> stateDict() {
        Map<Tensor, Integer> index = indexOfParams();
        Map<Integer, Map<String, Object>> packedState = new TreeMap<>();
        try (AutogradScope ignored = Autograd.noGrad()) {
            state.forEach((p, s) -> {
                Map<String, Object> copy = new LinkedHashMap<>();
                s.forEach((k, v) -> copy.put(k, v instanceof Tensor t ? t.detach().clone() : v));
                packedState.put(index.get(p), copy);
            });
        }
        List<Map<String, Object>> packedGroups = new ArrayList<>();
        for (ParamGroup g : groups) {
            Map<String, Object> m = new LinkedHashMap<>(g.options());
            List<Integer> ids = new ArrayList<>();
            for (Tensor p : g.params()) ids.add(index.get(p));
            m.put("params", ids);
            packedGroups.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("state", packedState);
        out.put("param_groups", packedGroups);
        return out;
    }

    /**
     * Restores a dict made by {@link #stateDict()} (of an optimizer of the same kind over
     * parameters of the same shapes). Group options are replaced by the saved ones; tensors
     * are copied, so the dict can be loaded into several optimizers.
     */
    public void loadStateDict(Map<String, ?> dict) {
        Object rawGroups = dict.get("param_groups");
        Object rawState = dict.get("state");
        if (!(rawGroups instanceof List<?> savedGroups)) throw new IllegalArgumentException(name + ".loadStateDict: missing or malformed 'param_groups'");
        if (!(rawState instanceof Map<?, ?> savedState)) throw new IllegalArgumentException(name + ".loadStateDict: missing or malformed 'state'");
        if (savedGroups.size() != groups.size()) {
            throw new IllegalArgumentException(name + ".loadStateDict: loaded state dict has " + savedGroups.size() + " parameter groups, the optimizer has " + groups.size());
        }
        List<Tensor> params = allParams();
        List<Map<String, Object>> newOptions = new ArrayList<>();
        for (int gi = 0; gi < groups.size(); gi++) {
            if (!(savedGroups.get(gi) instanceof Map<?, ?> sg)) throw new IllegalArgumentException(name + ".loadStateDict: param group " + gi + " is not a map");
            if (!(sg.get("params") instanceof List<?> ids) || ids.size() != groups.get(gi).params().size()) {
                throw new IllegalArgumentException(name + ".loadStateDict: param group " + gi + " of the loaded dict doesn't match the size of the optimizer's group ("
                        + groups.get(gi).params().size() + " parameters)");
            }
            Map<String, Object> opts = new LinkedHashMap<>();
            sg.forEach((k, v) -> {
                if (!"params".equals(k)) opts.put(String.valueOf(k), v);
            });
            newOptions.add(opts);
        }
        Map<Tensor, Map<String, Object>> newState = new IdentityHashMap<>();
        try (AutogradScope ignored = Autograd.noGrad()) {
            for (Map.Entry<?, ?> e : savedState.entrySet()) {
                int i = parseIndex(e.getKey(), params.size());
                Tensor p = params.get(i);
                if (!(e.getValue() instanceof Map<?, ?> ps)) throw new IllegalArgumentException(name + ".loadStateDict: state of parameter " + i + " is not a map");
                Map<String, Object> s = new LinkedHashMap<>();
                for (Map.Entry<?, ?> f : ps.entrySet()) {
                    Object v = f.getValue();
                    if (v instanceof Tensor t && String.valueOf(f.getKey()).equals("step")) {
                        if (t.numel() != 1) throw new IllegalArgumentException(name + ".loadStateDict: state 'step' of parameter " + i + " must hold one value, got " + t.typeString());
                        v = t.detach().to(dev.kiln.backend.DType.FLOAT32).reshape().clone();
                    } else if (v instanceof Tensor t) {
                        if (!Arrays.equals(t.shape(), p.shape())) {
                            throw new IllegalArgumentException(name + ".loadStateDict: state '" + f.getKey() + "' of parameter " + i + " is " + t.typeString()
                                    + " but the parameter is " + p.typeString());
                        }
                        // onto the parameter's device, as PyTorch casts loaded state to the param's device
                        v = t.detach().to(p.dtype()).to(p.device()).clone();
                    }
                    s.put(String.valueOf(f.getKey()), v);
                }
                newState.put(p, s);
            }
        }
        // Validate every group on a scratch copy first, so a bad dict leaves the optimizer intact.
        for (int gi = 0; gi < groups.size(); gi++) {
            Map<String, Object> merged = new LinkedHashMap<>(groups.get(gi).options());
            merged.putAll(newOptions.get(gi));
            validate(ParamGroup.of(groups.get(gi).params(), merged));
        }
        for (int gi = 0; gi < groups.size(); gi++) newOptions.get(gi).forEach(groups.get(gi)::set);
        state.clear();
        state.putAll(newState);
    }

    private int parseIndex(Object key, int n) {
        int i;
        try {
            i = key instanceof Number num ? num.intValue() : Integer.parseInt(String.valueOf(key));
        } catch (NumberFormatException ex) {
            throw new IllegalArgumentException(name + ".loadStateDict: state key '" + key + "' is not a parameter index");
        }
        if (i < 0 || i >= n) throw new IllegalArgumentException(name + ".loadStateDict: state for parameter " + i + " but the optimizer has " + n + " parameters");
        return i;
    }

    private List<Tensor> allParams() {
        List<Tensor> all = new ArrayList<>();
        for (ParamGroup g : groups) all.addAll(g.params());
        return all;
    }

    private Map<Tensor, Integer> indexOfParams() {
        Map<Tensor, Integer> index = new IdentityHashMap<>();
        for (Tensor p : allParams()) index.put(p, index.size());
        return index;
    }

    /**
     * The step counter kept in each parameter's state: a 0-d f32 tensor incremented in place,
     * as PyTorch 1.13 keeps it. Being a tensor is what lets a traced training step
     * (Tracer.traceStep) carry the count as state instead of baking this step's value into
     * the bias corrections. A plain number (an older state dict) is converted.
     */
    protected static Tensor incrementStep(Map<String, Object> state) {
        Object s = state.get("step");
        Tensor t;
        if (s instanceof Tensor st) {
            t = st;
        } else {
            t = Tensor.scalar(s == null ? 0 : ((Number) s).doubleValue());
            state.put("step", t);
        }
        t.add_(1.0);
        return t;
    }

    protected static void requireAtLeast(ParamGroup g, String key, double min, String what) {
        double v = g.getDouble(key);
        if (!(v >= min)) throw new IllegalArgumentException("Invalid " + what + ": " + v + " (option '" + key + "' must be >= " + min + ")");
    }

    protected static void requireInRange(double v, String what) {
        if (!(v >= 0.0 && v < 1.0)) throw new IllegalArgumentException("Invalid " + what + ": " + v + " (must be in [0, 1))");
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(name).append(" (");
        for (int i = 0; i < groups.size(); i++) sb.append("\n  group ").append(i).append(": ").append(groups.get(i).options());
        return sb.append("\n)").toString();
    }
}
