package dev.kiln.backend.cpu.vector;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FloatRows#product} in vector lanes: tiles of 8 rows x 2 vectors of C in 16 accumulator
 * registers, A's 8 values per k step broadcast straight from its strided storage and B's two
 * vectors loaded from its row, so neither is copied into panels first. Measured on attention's
 * tiles (Zen 4, one thread, operands in L1/L2): [64 x 128] @ [128 x 32] 4.6 us against 8.3 us
 * through the packed GEMM, [64 x 128]^T @ [64 x 32] 4.8 against 10.3 us. Unrolled as
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
        int j = 0;
        for (; j + 2 * L <= n; j += 2 * L) {
            int i = 0;
            for (; i + 8 <= m; i += 8) tile8(k, a, ao + i * ars, ars, acs, b, bo + j, ldb, c, co + i * ldc + j, ldc, accumulate);
            for (; i < m; i++) row(k, a, ao + i * ars, acs, b, bo + j, ldb, c, co + i * ldc + j, accumulate);
        }
        // the last columns (head dims of 16, 24, 40 or 48 with 16 lanes) one vector, then a
        // masked one, at a time: the same fma chain per lane
        for (; j < n; j += L) {
            VectorMask<Float> in = S.indexInRange(j, n);
            for (int i = 0; i < m; i++) column(k, a, ao + i * ars, acs, b, bo + j, ldb, c, co + i * ldc + j, accumulate, in);
        }
    }

    /** One row of C, one (masked) vector wide. */
    private static void column(int k, float[] a, int ai, int acs, float[] b, int bi, int ldb, float[] c, int ci, boolean accumulate, VectorMask<Float> in) {
        FloatVector c0 = FloatVector.zero(S);
        for (int p = 0; p < k; p++, ai += acs, bi += ldb) c0 = FloatVector.broadcast(S, a[ai]).fma(FloatVector.fromArray(S, b, bi, in), c0);
        if (accumulate) c0 = c0.add(FloatVector.fromArray(S, c, ci, in));
        c0.intoArray(c, ci, in);
    }

    /** One row of C, two vectors wide. */
    private static void row(int k, float[] a, int ai, int acs, float[] b, int bi, int ldb, float[] c, int ci, boolean accumulate) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0;
        for (int p = 0; p < k; p++, ai += acs, bi += ldb) {
            FloatVector x = FloatVector.broadcast(S, a[ai]);
            c0 = x.fma(FloatVector.fromArray(S, b, bi), c0);
            c1 = x.fma(FloatVector.fromArray(S, b, bi + L), c1);
        }
        if (accumulate) {
            c0 = c0.add(FloatVector.fromArray(S, c, ci));
            c1 = c1.add(FloatVector.fromArray(S, c, ci + L));
        }
        c0.intoArray(c, ci);
        c1.intoArray(c, ci + L);
    }

    /** Eight rows of C, two vectors wide. */
    private static void tile8(int k, float[] a, int ai, int ars, int acs, float[] b, int bi, int ldb, float[] c, int ci, int ldc, boolean accumulate) {
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
        if (accumulate) {
            c00 = c00.add(FloatVector.fromArray(S, c, ci)); c01 = c01.add(FloatVector.fromArray(S, c, ci + L));
            c10 = c10.add(FloatVector.fromArray(S, c, ci + ldc)); c11 = c11.add(FloatVector.fromArray(S, c, ci + ldc + L));
            c20 = c20.add(FloatVector.fromArray(S, c, ci + 2 * ldc)); c21 = c21.add(FloatVector.fromArray(S, c, ci + 2 * ldc + L));
            c30 = c30.add(FloatVector.fromArray(S, c, ci + 3 * ldc)); c31 = c31.add(FloatVector.fromArray(S, c, ci + 3 * ldc + L));
            c40 = c40.add(FloatVector.fromArray(S, c, ci + 4 * ldc)); c41 = c41.add(FloatVector.fromArray(S, c, ci + 4 * ldc + L));
            c50 = c50.add(FloatVector.fromArray(S, c, ci + 5 * ldc)); c51 = c51.add(FloatVector.fromArray(S, c, ci + 5 * ldc + L));
            c60 = c60.add(FloatVector.fromArray(S, c, ci + 6 * ldc)); c61 = c61.add(FloatVector.fromArray(S, c, ci + 6 * ldc + L));
            c70 = c70.add(FloatVector.fromArray(S, c, ci + 7 * ldc)); c71 = c71.add(FloatVector.fromArray(S, c, ci + 7 * ldc + L));
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
