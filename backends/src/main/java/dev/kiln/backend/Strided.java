package dev.kiln.backend;

import dev.kiln.backend.shape.Shapes;

/**
 * A strided view of a storage: what kernels read and write. Shapes and strides are owned by
 * the view (callers must not mutate the arrays they pass in or get back).
 */
public record Strided(Storage storage, int[] shape, int[] strides, int offset) {

    public static Strided contiguous(Storage s, int[] shape) {
        return new Strided(s, shape, Shapes.contiguousStrides(shape), 0);
    }

    public static Strided allocate(DType dtype, int[] shape) {
        return contiguous(Storage.allocate(dtype, Shapes.numelInt(shape)), shape);
    }

    public DType dtype() { return storage.dtype(); }

    public int rank() { return shape.length; }

    public int numel() { return Shapes.numelInt(shape); }

    public boolean isContiguous() { return Shapes.isContiguous(shape, strides); }

    /** Storage index of the element at a flat row-major position (slow; for tests and printing). */
    public int indexOf(int flat) {
        int idx = offset;
        for (int d = shape.length - 1; d >= 0; d--) {
            int s = shape[d];
            idx += (flat % s) * strides[d];
            flat /= s;
        }
        return idx;
    }
}
