package dev.kiln.graph.exec;

import dev.kiln.backend.Strided;

/**
 * Copies one block of an input, broadcast to the output's shape and converted to float32,
 * into a scratch array: the general path for inputs that are not already a dense float32
 * array of the output's shape (those are read in place).
 */
final class BlockLoader {
    private BlockLoader() {}

    /** dst[0..n) = x broadcast (strides {@code bs}, 0 on broadcast dims) at flat output positions p..p+n. */
    static void load(Strided x, int[] bs, int[] outShape, int p, int n, float[] dst) {
        int r = outShape.length;
        if (r == 0) {
            dst[0] = element(x, x.offset());
            return;
        }
        int[] idx = new int[r];
        int rem = p;
        for (int d = r - 1; d >= 0; d--) {
            idx[d] = rem % outShape[d];
            rem /= outShape[d];
        }
        int done = 0;
        int last = r - 1;
        while (done < n) {
            int off = x.offset();
            for (int d = 0; d < r; d++) off += idx[d] * bs[d];
            int len = Math.min(n - done, outShape[last] - idx[last]);
            row(x, off, bs[last], dst, done, len);
            done += len;
            idx[last] += len;
            for (int d = last; d > 0 && idx[d] >= outShape[d]; d--) {
                idx[d] = 0;
                idx[d - 1]++;
            }
        }
    }

    private static void row(Strided x, int off, int stride, float[] dst, int at, int len) {
        switch (x.dtype()) {
            case FLOAT32 -> {
                float[] s = x.storage().f32();
                if (stride == 1) System.arraycopy(s, off, dst, at, len);
                else for (int i = 0; i < len; i++) dst[at + i] = s[off + i * stride];
            }
            case FLOAT64 -> { double[] s = x.storage().f64(); for (int i = 0; i < len; i++) dst[at + i] = (float) s[off + i * stride]; }
            case INT64 -> { long[] s = x.storage().i64(); for (int i = 0; i < len; i++) dst[at + i] = (float) s[off + i * stride]; }
            case BOOL -> {
                boolean[] s = x.storage().bool();
                if (stride == 1) for (int i = 0; i < len; i++) dst[at + i] = s[off + i] ? 1f : 0f; // masks are dense: no index multiply
                else for (int i = 0; i < len; i++) dst[at + i] = s[off + i * stride] ? 1f : 0f;
            }
        }
    }

    private static float element(Strided x, int i) {
        return switch (x.dtype()) {
            case FLOAT32 -> x.storage().f32()[i];
            case FLOAT64 -> (float) x.storage().f64()[i];
            case INT64 -> (float) x.storage().i64()[i];
            case BOOL -> x.storage().bool()[i] ? 1f : 0f;
        };
    }
}
