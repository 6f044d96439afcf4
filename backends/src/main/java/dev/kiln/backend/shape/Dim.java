package dev.kiln.backend.shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One dimension of a shape: a monomial {@code coeff * s1 * s2 ...} over named symbols.
 * A plain integer dim has no symbols. Monomials are closed under the products and exact
 * quotients that reshapes and flattens need ({@code N*400 / 400 = N}); sums are only
 * defined when both sides are the same monomial or both constant, and anything else is
 * reported as unsupported instead of silently guessed.
 */
public final class Dim {
    private static final String[] NO_SYMBOLS = new String[0];
    private static final Dim[] SMALL = new Dim[1025];

    static {
        for (int i = 0; i < SMALL.length; i++) SMALL[i] = new Dim(i, NO_SYMBOLS);
    }

    private final long coeff;
    private final String[] symbols; // sorted, may repeat

    private Dim(long coeff, String[] symbols) {
        this.coeff = coeff;
        this.symbols = symbols;
    }

    public static Dim of(long value) {
        if (value >= 0 && value < SMALL.length) return SMALL[(int) value];
        if (value < 0) throw new IllegalArgumentException("negative dimension " + value);
        return new Dim(value, NO_SYMBOLS);
    }

    public static Dim symbol(String name) {
        if (name == null || name.isEmpty() || !Character.isLetter(name.charAt(0))) {
            throw new IllegalArgumentException("a symbolic dim needs a name starting with a letter, got '" + name + "'");
        }
        return new Dim(1, new String[] {name});
    }

    public static Dim[] of(int... values) {
        Dim[] dims = new Dim[values.length];
        for (int i = 0; i < values.length; i++) dims[i] = of(values[i]);
        return dims;
    }

    public boolean isConstant() { return symbols.length == 0; }

    /** The integer value; only for constant dims. */
    public long value() {
        if (!isConstant()) throw new IllegalStateException("dim " + this + " is symbolic");
        return coeff;
    }

    public long coefficient() { return coeff; }

    public List<String> symbols() { return List.of(symbols); }

    public Dim times(Dim o) {
        if (o.isConstant() && isConstant()) return of(Math.multiplyExact(coeff, o.coeff));
        String[] s = Arrays.copyOf(symbols, symbols.length + o.symbols.length);
        System.arraycopy(o.symbols, 0, s, symbols.length, o.symbols.length);
        Arrays.sort(s);
        long c = Math.multiplyExact(coeff, o.coeff);
        if (c == 0) return of(0);
        return new Dim(c, s);
    }

    /** Exact quotient, or null when {@code this / o} is not a monomial. */
    public Dim divExact(Dim o) {
        if (o.coeff == 0 || coeff % o.coeff != 0) return null;
        List<String> rest = new ArrayList<>(Arrays.asList(symbols));
        for (String s : o.symbols) {
            if (!rest.remove(s)) return null;
        }
        long c = coeff / o.coeff;
        if (rest.isEmpty()) return of(c);
        return new Dim(c, rest.toArray(NO_SYMBOLS));
    }

    /** Sum, or null when not representable as a monomial. */
    public Dim plus(Dim o) {
        if (isConstant() && o.isConstant()) return of(Math.addExact(coeff, o.coeff));
        if (coeff == 0) return o;
        if (o.coeff == 0) return this;
        if (Arrays.equals(symbols, o.symbols)) return new Dim(Math.addExact(coeff, o.coeff), symbols);
        return null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Dim d && d.coeff == coeff && Arrays.equals(d.symbols, symbols);
    }

    @Override
    public int hashCode() { return Long.hashCode(coeff) * 31 + Arrays.hashCode(symbols); }

    @Override
    public String toString() {
        if (isConstant()) return Long.toString(coeff);
        StringBuilder sb = new StringBuilder();
        if (coeff != 1) sb.append(coeff).append('*');
        for (int i = 0; i < symbols.length; i++) {
            if (i > 0) sb.append('*');
            sb.append(symbols[i]);
        }
        return sb.toString();
    }
}
