package dev.kiln.eager.nn;

import dev.kiln.backend.shape.Shapes;
import dev.kiln.eager.Device;
import dev.kiln.eager.HookHandle;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A neural-network building block as PyTorch's nn.Module: named parameters, buffers and
 * submodules (qualified names such as {@code features.0.weight}), train/eval mode, state
 * dicts and hooks. {@link #call} is {@code module(x)}: it runs hooks around {@link #forward}.
 */
public abstract class Module {
    private final Map<String, Tensor> params = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Set<String> transientBuffers = new java.util.HashSet<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private final List<ForwardPreHook> preHooks = new ArrayList<>();
    private final List<ForwardHook> forwardHooks = new ArrayList<>();
    private final List<BackwardHook> backwardHooks = new ArrayList<>();
    private boolean training = true;
    private Module parent;
    private String nameInParent;

    /** May replace the inputs (return null to keep them). */
    @FunctionalInterface
    public interface ForwardPreHook {
        Tensor[] apply(Module module, Tensor[] inputs);
    }

    /** May replace the output (return null to keep it). */
    @FunctionalInterface
    public interface ForwardHook {
        Tensor apply(Module module, Tensor[] inputs, Tensor output);
    }

    /** Sees the gradient of the module's output during backward; may return a replacement (or null). */
    @FunctionalInterface
    public interface BackwardHook {
        Tensor apply(Module module, Tensor gradOutput);
    }

    // ---- registration -----------------------------------------------------------------

    /** Registers a parameter (null is allowed, e.g. an absent bias); it is made to require grad. */
    protected Tensor registerParameter(String name, Tensor t) {
        checkName(name);
        if (t != null && !t.requiresGrad()) t.requiresGrad(true);
        params.put(name, t);
        return t;
    }

    /** Registers a persistent buffer (saved in the state dict), e.g. running statistics. */
    protected Tensor registerBuffer(String name, Tensor t) { return registerBuffer(name, t, true); }

    protected Tensor registerBuffer(String name, Tensor t, boolean persistent) {
        checkName(name);
        buffers.put(name, t);
        if (!persistent) transientBuffers.add(name);
        return t;
    }

    /** Registers a submodule under name; its qualified names get the prefix {@code name.}. */
    protected <M extends Module> M registerModule(String name, M m) {
        checkName(name);
        children.put(name, m);
        if (m != null) {
            Module child = m;
            child.parent = this;
            child.nameInParent = name;
        }
        return m;
    }

    private void checkName(String name) {
        if (name == null || name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": member name '" + name + "' must be non-empty and contain no '.'");
        }
    }

    /** This module's own parameter by local name. */
    public Tensor parameter(String name) { return params.get(name); }

    /** This module's own buffer by local name. */
    public Tensor buffer(String name) { return buffers.get(name); }

    // ---- forward ------------------------------------------------------------------------

    /** The computation of a one-input module. */
    public Tensor forward(Tensor input) {
        throw new UnsupportedOperationException(describe() + ": forward(Tensor) is not defined for this module");
    }

    /** The computation for several inputs; by default one input goes to {@link #forward(Tensor)}. */
    public Tensor forward(Tensor... inputs) {
        if (inputs.length == 1) return forward(inputs[0]);
        throw new IllegalArgumentException(describe() + ": expected 1 input, got " + inputs.length);
    }

    /** {@code module(inputs)}: forward pre-hooks, forward, forward hooks, and backward hooks on the output. */
    public final Tensor call(Tensor... inputs) {
        Tensor[] in = inputs;
        for (ForwardPreHook h : List.copyOf(preHooks)) {
            Tensor[] r = h.apply(this, in);
            if (r != null) in = r;
        }
        Tensor out = forward(in);
        for (ForwardHook h : List.copyOf(forwardHooks)) {
            Tensor r = h.apply(this, in, out);
            if (r != null) out = r;
        }
        if (!backwardHooks.isEmpty() && out.requiresGrad()) {
            List<BackwardHook> hooks = List.copyOf(backwardHooks);
            out.registerHook(g -> {
                Tensor cur = g;
                for (BackwardHook h : hooks) {
                    Tensor r = h.apply(this, cur);
                    if (r != null) cur = r;
                }
                return cur;
            });
        }
        return out;
    }

    public HookHandle registerForwardPreHook(ForwardPreHook h) { return add(preHooks, h); }

    public HookHandle registerForwardHook(ForwardHook h) { return add(forwardHooks, h); }

    /** Runs for outputs of calls made after registration. */
    public HookHandle registerBackwardHook(BackwardHook h) { return add(backwardHooks, h); }

    private static <T> HookHandle add(List<T> list, T h) {
        list.add(h);
        return () -> list.remove(h);
    }

    // ---- names and errors -----------------------------------------------------------------

    /** Qualified name from the root module ("" for the root itself). */
    public String path() {
        if (parent == null) return "";
        String up = parent.path();
        return up.isEmpty() ? nameInParent : up + "." + nameInParent;
    }

    /** Short description used in error messages, e.g. {@code Conv2d 1->6}. */
    protected String shortDescription() { return getClass().getSimpleName(); }

    /** {@code features.0 (Conv2d 1->6)}, or just the description for a root module. */
    protected String describe() {
        String p = path();
        return p.isEmpty() ? shortDescription() : p + " (" + shortDescription() + ")";
    }

    /** An input error naming this module's path, the expected form and the actual shape. */
    protected IllegalArgumentException badInput(String expected, Tensor got) {
        return new IllegalArgumentException(describe() + ": expected input " + expected + ", got " + Shapes.toString(got.data().shape()));
    }

    // ---- traversal ------------------------------------------------------------------------

    public Map<String, Tensor> namedParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (var e : namedModules().entrySet()) {
            for (var p : e.getValue().params.entrySet()) {
                if (p.getValue() != null && seen.add(p.getValue())) out.put(qualify(e.getKey(), p.getKey()), p.getValue());
            }
        }
        return out;
    }

    public List<Tensor> parameters() { return new ArrayList<>(namedParameters().values()); }

    public Map<String, Tensor> namedBuffers() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : namedModules().entrySet()) {
            for (var b : e.getValue().buffers.entrySet()) if (b.getValue() != null) out.put(qualify(e.getKey(), b.getKey()), b.getValue());
        }
        return out;
    }

    public List<Tensor> buffers() { return new ArrayList<>(namedBuffers().values()); }

    public Map<String, Module> namedChildren() {
        Map<String, Module> out = new LinkedHashMap<>();
        children.forEach((k, v) -> { if (v != null) out.put(k, v); });
        return out;
    }

    public List<Module> children() { return new ArrayList<>(namedChildren().values()); }

    /** This module ("") and all descendants, pre-order, by qualified name; shared modules once. */
    public Map<String, Module> namedModules() {
        Map<String, Module> out = new LinkedHashMap<>();
        collect("", out, Collections.newSetFromMap(new IdentityHashMap<>()));
        return out;
    }

    private void collect(String prefix, Map<String, Module> out, Set<Module> seen) {
        if (!seen.add(this)) return;
        out.put(prefix, this);
        for (var e : namedChildren().entrySet()) e.getValue().collect(qualify(prefix, e.getKey()), out, seen);
    }

    public List<Module> modules() { return new ArrayList<>(namedModules().values()); }

    private static String qualify(String prefix, String name) { return prefix.isEmpty() ? name : prefix + "." + name; }

    public long parameterCount() {
        long n = 0;
        for (Tensor p : parameters()) n += p.numel();
        return n;
    }

    // ---- modes and utilities ----------------------------------------------------------------

    public Module train(boolean on) {
        for (Module m : modules()) m.training = on;
        return this;
    }

    public Module train() { return train(true); }

    public Module eval() { return train(false); }

    public boolean isTraining() { return training; }

    /** Clears every parameter's gradient. */
    public void zeroGrad() {
        for (Tensor p : parameters()) p.setGrad(null);
    }

    /**
     * Moves every parameter and buffer of this module tree (and each parameter's gradient) to
     * device d in place, as PyTorch's {@code module.to(device)}: the same Tensor objects stay
     * registered, so fields such as {@code linear.weight} and an optimizer built before or after
     * keep working; requiresGrad is kept. Optimizer state made before the move (momentum
     * buffers, Adam moments) stays where it was, as in PyTorch: move the model before the first
     * step. A no-op for tensors already on d. Fails before anything changes when d cannot be used
     * here ({@code IllegalStateException: CUDA is not available: ...}, as {@code Device.cuda(0)})
     * or when a registered tensor is not a leaf. Returns this.
     */
    public Module to(Device d) {
        d.checkAvailable();
        Map<String, Tensor> params = namedParameters(), buffers = namedBuffers();
        params.forEach((name, t) -> requireLeaf(d, "parameter", name, t));
        buffers.forEach((name, t) -> requireLeaf(d, "buffer", name, t));
        Set<Tensor> tensors = Collections.newSetFromMap(new IdentityHashMap<>()); // shared or tied tensors move once
        tensors.addAll(params.values());
        tensors.addAll(buffers.values());
        for (Tensor t : tensors) t.moveTo_(d);
        return this;
    }

    private void requireLeaf(Device d, String what, String name, Tensor t) {
        if (!t.isLeaf()) {
            throw new IllegalStateException(describe() + ".to(" + d + "): " + what + " " + name + " is the output of "
                    + t.gradFn().name() + ", not a leaf, and cannot be moved in place; nothing was moved");
        }
    }

    /** Calls fn on every submodule (children first) and then on this module, as PyTorch's apply. */
    public Module apply(Consumer<Module> fn) {
        for (Module c : children()) c.apply(fn);
        fn.accept(this);
        return this;
    }

    // ---- state dict ---------------------------------------------------------------------

    /** Parameters then persistent buffers of each module, pre-order, detached (sharing storage). */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : namedModules().entrySet()) {
            Module m = e.getValue();
            m.params.forEach((k, v) -> { if (v != null) out.put(qualify(e.getKey(), k), v.detach()); });
            m.buffers.forEach((k, v) -> { if (v != null && !m.transientBuffers.contains(k)) out.put(qualify(e.getKey(), k), v.detach()); });
        }
        return out;
    }

    /** What a load found: keys the module has but the map lacks, extra keys, and shape mismatches. */
    public record LoadReport(List<String> missingKeys, List<String> unexpectedKeys, List<String> shapeMismatches) {
        public boolean clean() { return missingKeys.isEmpty() && unexpectedKeys.isEmpty() && shapeMismatches.isEmpty(); }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder();
            if (!missingKeys.isEmpty()) sb.append("\n  missing keys: ").append(missingKeys);
            if (!unexpectedKeys.isEmpty()) sb.append("\n  unexpected keys: ").append(unexpectedKeys);
            for (String s : shapeMismatches) sb.append("\n  size mismatch for ").append(s);
            return sb.length() == 0 ? "all keys matched" : sb.toString();
        }
    }

    /**
     * Copies values into the module's tensors in place. Shape mismatches always fail, and with
     * {@code strict} missing or unexpected keys fail too; the error lists every problem, and
     * nothing is copied when it fails.
     */
    public LoadReport loadStateDict(Map<String, Tensor> state, boolean strict) {
        Map<String, Tensor> own = stateDict();
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>(), mismatched = new ArrayList<>();
        for (var e : own.entrySet()) {
            Tensor v = state.get(e.getKey());
            if (v == null) missing.add(e.getKey());
            else if (!Arrays.equals(v.shape(), e.getValue().shape())) {
                mismatched.add(e.getKey() + ": copying a param with shape " + Shapes.toString(v.shape())
                        + ", the shape in the current model is " + Shapes.toString(e.getValue().shape()));
            }
        }
        for (String k : state.keySet()) if (!own.containsKey(k)) unexpected.add(k);
        LoadReport report = new LoadReport(List.copyOf(missing), List.copyOf(unexpected), List.copyOf(mismatched));
        if (!mismatched.isEmpty() || (strict && !report.clean())) {
            throw new IllegalArgumentException("loadStateDict: error(s) in loading state dict for " + getClass().getSimpleName() + ":" + report);
        }
        try (var ng = Autograd.noGrad()) {
            for (var e : own.entrySet()) {
                Tensor v = state.get(e.getKey());
                if (v != null) e.getValue().copy_(v.to(e.getValue().device())); // a CPU state dict loads into a moved module
            }
        }
        return report;
    }

    // ---- printing -----------------------------------------------------------------------

    /** The layer's settings inside the parentheses of its printout, e.g. {@code in_features=4, out_features=2, bias=true}. */
    protected String extraRepr() { return ""; }

    /** The module tree as PyTorch prints it. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(getClass().getSimpleName()).append('(').append(extraRepr());
        Map<String, Module> kids = namedChildren();
        if (kids.isEmpty()) return sb.append(')').toString();
        sb.append('\n');
        for (var e : kids.entrySet()) {
            String child = e.getValue().toString().replace("\n", "\n  ");
            sb.append("  (").append(e.getKey()).append("): ").append(child).append('\n');
        }
        return sb.append(')').toString();
    }
}
