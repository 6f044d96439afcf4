package dev.kiln.eager;

import dev.kiln.backend.shape.Dim;

/**
 * A size that stays symbolic in a trace: {@code x.sizeSym(1)} is this run's size of dim 1 and,
 * while tracing, the graph's dim there ({@code T} for a dynamic sequence length). Sizes computed
 * from it ({@code b.times(t)}, {@code c.div(h)}) and passed to {@code reshape}, {@code view} or
 * {@code expand} keep the graph symbolic where a Java int would bake this run's value in:
 *
 * <pre>{@code
 * SymInt b = x.sizeSym(0), t = x.sizeSym(1);
 * Tensor rows = x.reshape(b.times(t), SymInt.of(C));        // [B*T, C], not [15, C]
 * Tensor back = rows.view(b, t, SymInt.of(H), SymInt.INFER); // [B, T, H, C/H]
 * }</pre>
 *
 * Reading the number itself ({@link #intValue()}) during a trace is a shape read: an error in
 * strict tracing, a guard in lenient tracing.
 */
public final class SymInt {
    /** -1 in a target shape: inferred (reshape, view) or kept (expand). */
    public static final SymInt INFER = new SymInt(-1, null);

    private final long value;
    private final Dim dim;

    SymInt(long value, Dim dim) {
        this.value = value;
        this.dim = dim;
    }

    /** A fixed size. */
    public static SymInt of(long value) {
        if (value < 0) throw new IllegalArgumentException("a size must be >= 0, got " + value + " (SymInt.INFER is -1)");
        return new SymInt(value, Dim.of(value));
    }

    /** The size as the graph sees it: a symbolic expression in a trace, the number otherwise; null for INFER. */
    public Dim dim() { return dim; }

    /** True when a trace keeps this size symbolic. */
    public boolean isSymbolic() { return dim != null && !dim.isConstant(); }

    public SymInt times(SymInt o) {
        requireSize(this, "times");
        requireSize(o, "times");
        return new SymInt(Math.multiplyExact(value, o.value), dim.times(o.dim));
    }

    public SymInt times(long k) { return times(of(k)); }

    /** The exact quotient; a remainder, or a symbol that does not divide out, is an error. */
    public SymInt div(SymInt o) {
        requireSize(this, "div");
        requireSize(o, "div");
        if (o.value == 0 || value % o.value != 0) throw new IllegalArgumentException("SymInt.div: " + this + " is not divisible by " + o);
        Dim q = dim.divExact(o.dim);
        if (q == null) throw new IllegalArgumentException("SymInt.div: " + dim + " / " + o.dim + " is not a product of the symbols (sizes are monomials)");
        return new SymInt(value / o.value, q);
    }

    public SymInt div(long k) { return div(of(k)); }

    /** This run's value. Reading it during a trace is an assumption (see the class comment). */
    public int intValue() {
        requireSize(this, "intValue");
        if (isSymbolic()) {
            OpObserver o = Dispatcher.observer();
            if (o != null) o.onSizeRead(dim, value, "SymInt.intValue() of " + dim);
        }
        return Math.toIntExact(value);
    }

    /** This run's value without telling a tracer: for messages and checks whose result reaches no graph. */
    long valueUnobserved() { return value; }

    private static void requireSize(SymInt s, String what) {
        if (s.dim == null) throw new IllegalArgumentException("SymInt." + what + ": INFER (-1) is not a size");
    }

    @Override
    public String toString() {
        if (dim == null) return "-1";
        return dim.isConstant() ? Long.toString(value) : dim + "=" + value;
    }
}
