package dev.kiln.eager.optim;

import dev.kiln.eager.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Shared part of the optimizer builders: the parameter groups and the default options that
 * groups without their own value use. Subclasses add their typed setters.
 */
public abstract class OptimizerBuilder<B extends OptimizerBuilder<B, O>, O extends Optimizer> {
    protected final List<ParamGroup> groups;
    protected final Map<String, Object> options = new LinkedHashMap<>();

    protected OptimizerBuilder(List<ParamGroup> groups, Map<String, Object> defaults) {
        this.groups = new ArrayList<>(groups);
        this.options.putAll(defaults);
    }

    protected static List<ParamGroup> oneGroup(List<Tensor> params) { return List.of(ParamGroup.of(params)); }

    @SuppressWarnings("unchecked")
    protected final B put(String key, Object value) {
        options.put(key, value instanceof Number n ? (Object) n.doubleValue() : value);
        return (B) this;
    }

    public B lr(double lr) { return put("lr", lr); }

    /** L2 penalty added to the gradient (decoupled from it in AdamW). */
    public B weightDecay(double weightDecay) { return put("weight_decay", weightDecay); }

    /** Maximize the objective instead of minimizing it. */
    public B maximize(boolean maximize) { return put("maximize", maximize); }

    public abstract O build();
}
