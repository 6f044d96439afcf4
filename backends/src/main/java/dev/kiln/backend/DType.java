package dev.kiln.backend;

/**
 * Element types. Promotion follows PyTorch: bool < int64 < float32 < float64, and a
 * "wrapped scalar" (a Java number used as an operand) only decides the category, never
 * widens a tensor of the same category (float32 * 2.0 stays float32).
 */
public enum DType {
    BOOL("bool", 1, 0),
    INT64("i64", 8, 1),
    FLOAT32("f32", 4, 2),
    FLOAT64("f64", 8, 2);

    private final String shortName;
    private final int itemSize;
    /** 0 = boolean, 1 = integral, 2 = floating point. */
    private final int category;

    DType(String shortName, int itemSize, int category) {
        this.shortName = shortName;
        this.itemSize = itemSize;
        this.category = category;
    }

    /** The name used in printouts, errors and JSON ({@code f32}, {@code i64}, ...). */
    public String shortName() { return shortName; }

    public int itemSize() { return itemSize; }

    public boolean isFloatingPoint() { return category == 2; }

    public boolean isIntegral() { return category == 1; }

    public boolean isBool() { return category == 0; }

    public static DType fromShortName(String name) {
        for (DType t : values()) {
            if (t.shortName.equals(name)) return t;
        }
        throw new IllegalArgumentException("unknown dtype '" + name + "' (expected one of bool, i64, f32, f64)");
    }

    /** Promotion of two tensor operands. */
    public static DType promote(DType a, DType b) {
        return a.ordinal() >= b.ordinal() ? a : b;
    }

    /**
     * Promotion where {@code b} comes from a Java scalar: it only raises the category.
     * int64 tensor + 2.5 gives float32 (the default float type), float32 + 2.5 stays float32.
     */
    public static DType promoteWithScalar(DType tensor, DType scalar) {
        if (scalar.category <= tensor.category) return tensor;
        return scalar.category == 2 ? FLOAT32 : INT64;
    }

    @Override
    public String toString() { return shortName; }
}
