package dev.kiln.backend.cpu.gemm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float register-tiled micro-kernel: an MR x NR tile of C (8 rows x 2 vectors) held in
 * 16 accumulator registers while one packed A panel and one packed B panel stream past.
 *
 * <p>Fully unrolled on purpose: C2 only keeps Vector API values in registers
 * when every accumulator is a separate local, with no arrays or loops over accumulators. The
 * panels are zero-padded, so the k loop always runs the full tile; only the write-back looks at
 * the ragged edge.
 */
final class VectorFloatKernel implements FloatMicroKernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int MR = 8;
    static final int NR = 2 * L;

    @Override
    public int mr() {
        return MR;
    }

    @Override
    public int nr() {
        return NR;
    }

    @Override
    public void tile(int kc, float[] pa, int ai, float[] pb, int bi, int ldb,
                     float[] c, int ci, int ldc, int rows, int cols, boolean first, float[] edge) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + L);
            FloatVector a;
            a = FloatVector.broadcast(S, pa[ai]); c00 = a.fma(b0, c00); c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, pa[ai + 1]); c10 = a.fma(b0, c10); c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, pa[ai + 2]); c20 = a.fma(b0, c20); c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, pa[ai + 3]); c30 = a.fma(b0, c30); c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(S, pa[ai + 4]); c40 = a.fma(b0, c40); c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(S, pa[ai + 5]); c50 = a.fma(b0, c50); c51 = a.fma(b1, c51);
            a = FloatVector.broadcast(S, pa[ai + 6]); c60 = a.fma(b0, c60); c61 = a.fma(b1, c61);
            a = FloatVector.broadcast(S, pa[ai + 7]); c70 = a.fma(b0, c70); c71 = a.fma(b1, c71);
            ai += MR;
            bi += ldb;
        }
        if (rows == MR && cols == NR) {
            store(c00, c, ci, first);
            store(c01, c, ci + L, first);
            ci += ldc;
            store(c10, c, ci, first);
            store(c11, c, ci + L, first);
            ci += ldc;
            store(c20, c, ci, first);
            store(c21, c, ci + L, first);
            ci += ldc;
            store(c30, c, ci, first);
            store(c31, c, ci + L, first);
            ci += ldc;
            store(c40, c, ci, first);
            store(c41, c, ci + L, first);
            ci += ldc;
            store(c50, c, ci, first);
            store(c51, c, ci + L, first);
            ci += ldc;
            store(c60, c, ci, first);
            store(c61, c, ci + L, first);
            ci += ldc;
            store(c70, c, ci, first);
            store(c71, c, ci + L, first);
            return;
        }
        c00.intoArray(edge, 0);
        c01.intoArray(edge, 1 * L);
        c10.intoArray(edge, 2 * L);
        c11.intoArray(edge, 3 * L);
        c20.intoArray(edge, 4 * L);
        c21.intoArray(edge, 5 * L);
        c30.intoArray(edge, 6 * L);
        c31.intoArray(edge, 7 * L);
        c40.intoArray(edge, 8 * L);
        c41.intoArray(edge, 9 * L);
        c50.intoArray(edge, 10 * L);
        c51.intoArray(edge, 11 * L);
        c60.intoArray(edge, 12 * L);
        c61.intoArray(edge, 13 * L);
        c70.intoArray(edge, 14 * L);
        c71.intoArray(edge, 15 * L);
        for (int r = 0; r < rows; r++) {
            int t = r * NR;
            int o = ci + r * ldc;
            for (int j = 0; j < cols; j++) c[o + j] = first ? edge[t + j] : c[o + j] + edge[t + j];
        }
    }

    private static void store(FloatVector acc, float[] c, int i, boolean first) {
        (first ? acc : acc.add(FloatVector.fromArray(S, c, i))).intoArray(c, i);
    }
}
