package dev.kiln.backend.cuda;

/**
 * Packs the by-value structs of kiln_common.cuh: {@code KShape {int rank; int d[8];}} and
 * {@code KStrides {int s[8];}}. Unused trailing entries are zero.
 */
final class KernelLayouts {
    private KernelLayouts() {}

    static final int MAX_DIMS = 8;

    static int[] shape(int[] shape) {
        if (shape.length > MAX_DIMS) throw new IllegalArgumentException("the CUDA kernels support at most " + MAX_DIMS + " dims, got " + shape.length);
        int[] s = new int[1 + MAX_DIMS];
        s[0] = shape.length;
        System.arraycopy(shape, 0, s, 1, shape.length);
        return s;
    }

    static int[] strides(int[] strides) {
        if (strides.length > MAX_DIMS) throw new IllegalArgumentException("the CUDA kernels support at most " + MAX_DIMS + " dims, got " + strides.length);
        int[] s = new int[MAX_DIMS];
        System.arraycopy(strides, 0, s, 0, strides.length);
        return s;
    }
}
