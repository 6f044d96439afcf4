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

    /**
     * This tensor (rank >= 2) as a matrix of rows: [product of all dims but the last, last dim],
     * when every dim before the last steps through memory as one evenly strided run of rows (a
     * contiguous [B, T, C], or rows of a wider matrix); null when it does not (a transposed batch,
     * a slice along T). Unit batch dims never matter. A matmul of such an x by one matrix is one
     * GEMM over all its rows.
     */
    public Strided asRows() {
        int r = shape.length;
        if (r < 2) return null;
        if (r == 2) return this;
        long expect = (long) strides[r - 2] * shape[r - 2]; // the stride the next dim out must have
        int rows = shape[r - 2];
        for (int d = r - 3; d >= 0; d--) {
            rows *= shape[d];
            if (shape[d] == 1) continue;
            if (strides[d] != expect) return null;
            expect *= shape[d];
        }
        return new Strided(storage, new int[] {rows, shape[r - 1]}, new int[] {strides[r - 2], strides[r - 1]}, offset);
    }

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
