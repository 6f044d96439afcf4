package dev.kiln.backend.shape;

import dev.kiln.backend.DType;
import java.util.Arrays;

/** The static type of a value: element type and a shape of (possibly symbolic) dims. */
public record TensorType(DType dtype, Dim[] shape) {

    public TensorType {
        if (dtype == null) throw new IllegalArgumentException("dtype is required");
        shape = shape.clone();
    }

    public static TensorType of(DType dtype, int... shape) { return new TensorType(dtype, Dim.of(shape)); }

    public int rank() { return shape.length; }

    public Dim dim(int i) { return shape[i]; }

    public boolean isStatic() {
        for (Dim d : shape) if (!d.isConstant()) return false;
        return true;
    }

    /** Concrete shape; fails on symbolic dims. */
    public int[] concreteShape() {
        int[] s = new int[shape.length];
        for (int i = 0; i < s.length; i++) s[i] = Math.toIntExact(shape[i].value());
        return s;
    }

    public TensorType withDtype(DType t) { return new TensorType(t, shape); }

    @Override
    public Dim[] shape() { return shape.clone(); }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorType t && t.dtype == dtype && Arrays.equals(t.shape, shape);
    }

    @Override
    public int hashCode() { return dtype.hashCode() * 31 + Arrays.hashCode(shape); }

    /** Text form used by the graph printer: {@code f32[N,1,28,28]}. */
    @Override
    public String toString() { return dtype.shortName() + Shapes.toString(shape); }
}
