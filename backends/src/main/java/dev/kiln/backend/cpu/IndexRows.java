package dev.kiln.backend.cpu;

/**
 * Walks the rows (innermost dim) of a contiguous index tensor, handing each row's flat start
 * and the multi-index of its outer dims, so gather-like kernels resolve the outer offsets once
 * per row rather than once per element.
 */
final class IndexRows {
    private IndexRows() {}

    @FunctionalInterface
    interface Row {
        /** {@code pos[i]} for i below the last dim is the row's coordinate; pos[last] is 0. */
        void row(int flatStart, int[] pos);
    }

    static void forEach(int[] shape, Row fn) {
        int r = shape.length, len = shape[r - 1];
        long total = 1;
        for (int s : shape) total *= s;
        if (total == 0) return;
        int[] pos = new int[r];
        for (int o = 0; o < total; o += len) {
            fn.row(o, pos);
            for (int i = r - 2; i >= 0; i--) {
                if (++pos[i] < shape[i]) break;
                pos[i] = 0;
            }
        }
    }
}
