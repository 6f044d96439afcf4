package dev.kiln.backend.cpu.vector;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FloatRows#product} in vector lanes: tiles of 8 rows x 2 vectors of C in 16 accumulator
 * registers, A's 8 values per k step broadcast straight from its strided storage and B's two
 * vectors loaded from its row, so neither is copied into panels first. Measured on attention's
 * tiles (Zen 4, one thread, operands in L1/L2, JDK 17 and 25): [64 x 128] @ [128 x 32] 4.6 us
 * against 8.2-8.7 us through the packed GEMM, [64 x 128]^T @ [64 x 32] added to C 5.7-5.9
 * against 10.1-11.3 us. Unrolled as
 * the GEMM's micro-kernel is, for the same reason: C2 keeps Vector API values in registers only
 * when each accumulator is its own local. Rows past the last 8 take one row at a time, columns
 * past the last two vectors one (masked) vector at a time: every element is the same fma chain.
 */
final class PanamaProduct {
    private PanamaProduct() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    static void product(int m, int n, int k, float[] a, int ao, int ars, int acs, float[] b, int bo, int ldb,
                        float[] c, int co, int ldc, boolean accumulate) {
        // Accumulating tiles go through a scratch tile, then one add into C: with the add inside
        // the tile methods, C2 on JDK 17 merged added and plain accumulators and boxed them
        // (37 us against 4.6 us a tile product), as the GEMM's micro-kernel notes. acc + C is
        // the same sum either way.
        float[] t = accumulate ? new float[8 * 2 * L] : null;
        int j = 0;
        for (; j + 2 * L <= n; j += 2 * L) {
            int i = 0;
            for (; i + 8 <= m; i += 8) {
                int ai = ao + i * ars, ci = co + i * ldc + j;
                if (t == null) {
                    tile8(k, a, ai, ars, acs, b, bo + j, ldb, c, ci, ldc);
                } else {
                    tile8(k, a, ai, ars, acs, b, bo + j, ldb, t, 0, 2 * L);
                    addInto(t, 8, 2 * L, c, ci, ldc, null);
                }
            }
            for (; i < m; i++) {
                int ai = ao + i * ars, ci = co + i * ldc + j;
                if (t == null) {
                    row(k, a, ai, acs, b, bo + j, ldb, c, ci);
                } else {
                    row(k, a, ai, acs, b, bo + j, ldb, t, 0);
                    addInto(t, 1, 2 * L, c, ci, ldc, null);
                }
            }
        }
        // the last columns (head dims of 16, 24, 40 or 48 with 16 lanes) one vector, then a
        // masked one, at a time: the same fma chain per lane
        for (; j < n; j += L) {
            VectorMask<Float> in = S.indexInRange(j, n);
            for (int i = 0; i < m; i++) {
                int ai = ao + i * ars, ci = co + i * ldc + j;
                if (t == null) {
                    column(k, a, ai, acs, b, bo + j, ldb, c, ci, in);
                } else {
                    column(k, a, ai, acs, b, bo + j, ldb, t, 0, in);
                    addInto(t, 1, L, c, ci, ldc, in);
                }
            }
        }
    }

    /** C's rows x width tile at ci (row stride ldc) += t's (row stride width); under mask when one vector wide. */
    private static void addInto(float[] t, int rows, int width, float[] c, int ci, int ldc, VectorMask<Float> mask) {
        for (int r = 0; r < rows; r++) {
            for (int v = 0; v < width; v += L) {
                int at = ci + r * ldc + v;
                if (mask == null) FloatVector.fromArray(S, t, r * width + v).add(FloatVector.fromArray(S, c, at)).intoArray(c, at);
                else FloatVector.fromArray(S, t, r * width + v, mask).add(FloatVector.fromArray(S, c, at, mask)).intoArray(c, at, mask);
            }
        }
    }

    /** One (masked) vector of one row of C. */
    private static void column(int k, float[] a, int ai, int acs, float[] b, int bi, int ldb, float[] c, int ci, VectorMask<Float> in) {
        FloatVector c0 = FloatVector.zero(S);
        for (int p = 0; p < k; p++, ai += acs, bi += ldb) c0 = FloatVector.broadcast(S, a[ai]).fma(FloatVector.fromArray(S, b, bi, in), c0);
        c0.intoArray(c, ci, in);
    }

    /** One row of C, two vectors wide. */
    private static void row(int k, float[] a, int ai, int acs, float[] b, int bi, int ldb, float[] c, int ci) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0;
        for (int p = 0; p < k; p++, ai += acs, bi += ldb) {
            FloatVector x = FloatVector.broadcast(S, a[ai]);
            c0 = x.fma(FloatVector.fromArray(S, b, bi), c0);
            c1 = x.fma(FloatVector.fromArray(S, b, bi + L), c1);
        }
        c0.intoArray(c, ci);
        c1.intoArray(c, ci + L);
    }

    /** Eight rows of C, two vectors wide. */
    private static void tile8(int k, float[] a, int ai, int ars, int acs, float[] b, int bi, int ldb, float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        FloatVector c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
        int r1 = ars, r2 = 2 * ars, r3 = 3 * ars, r4 = 4 * ars, r5 = 5 * ars, r6 = 6 * ars, r7 = 7 * ars;
        for (int p = 0; p < k; p++, ai += acs, bi += ldb) {
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector x;
            x = FloatVector.broadcast(S, a[ai]); c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ai + r1]); c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ai + r2]); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ai + r3]); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[ai + r4]); c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[ai + r5]); c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, a[ai + r6]); c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, a[ai + r7]); c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
        }
        c00.intoArray(c, ci); c01.intoArray(c, ci + L);
        c10.intoArray(c, ci + ldc); c11.intoArray(c, ci + ldc + L);
        c20.intoArray(c, ci + 2 * ldc); c21.intoArray(c, ci + 2 * ldc + L);
        c30.intoArray(c, ci + 3 * ldc); c31.intoArray(c, ci + 3 * ldc + L);
        c40.intoArray(c, ci + 4 * ldc); c41.intoArray(c, ci + 4 * ldc + L);
        c50.intoArray(c, ci + 5 * ldc); c51.intoArray(c, ci + 5 * ldc + L);
        c60.intoArray(c, ci + 6 * ldc); c61.intoArray(c, ci + 6 * ldc + L);
        c70.intoArray(c, ci + 7 * ldc); c71.intoArray(c, ci + 7 * ldc + L);
    }
}
