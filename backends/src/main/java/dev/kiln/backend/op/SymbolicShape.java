package dev.kiln.backend.op;

import dev.kiln.backend.shape.Dim;
import java.util.Arrays;

/**
 * A target shape with symbolic sizes, the value of a {@link AttrType#SHAPE} attribute (reshape's
 * and expand's {@code shape}) when a traced program computed some of its sizes from dynamic dims
 * ({@code x.sizeSym(0).times(x.sizeSym(1))}). A null entry is -1 (inferred, or kept by expand).
 * Attributes hold plain {@code int[]} whenever every size is a number, so this appears only
 * in traced graphs, where the executors bind the symbols per run.
 */
public record SymbolicShape(Dim[] dims) {
    public SymbolicShape {
        dims = dims.clone();
    }

    @Override
    public Dim[] dims() { return dims.clone(); }

    /** The shape as an int[] when every entry is a number (-1 for null), else null. */
    public int[] concrete() {
        int[] r = new int[dims.length];
        for (int i = 0; i < r.length; i++) {
            if (dims[i] == null) r[i] = -1;
            else if (dims[i].isConstant() && dims[i].value() <= Integer.MAX_VALUE) r[i] = (int) dims[i].value();
            else return null;
        }
        return r;
    }

    @Override
    public boolean equals(Object o) { return o instanceof SymbolicShape s && Arrays.equals(s.dims, dims); }

    @Override
    public int hashCode() { return Arrays.hashCode(dims); }

    /** {@code [B,T*H,-1]}, the form the graph printer shows. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) sb.append(',');
            sb.append(dims[i] == null ? "-1" : dims[i].toString());
        }
        return sb.append(']').toString();
    }
}
