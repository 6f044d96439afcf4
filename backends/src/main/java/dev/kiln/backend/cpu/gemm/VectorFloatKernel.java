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
        boolean full = rows == MR && cols == NR;
        if (full && !first) {
            // A separate method, not a branch per store: with a conditional add at each of the 16
            // stores C2 stopped inlining the vector calls (NodeCountInliningCutoff) and ran the
            // Vector API's boxed fallback on every second k block; merging preloaded and zero
            // accumulators in one method made C2 box them at the merge instead.
            tileAccumulate(kc, pa, ai, pb, bi, ldb, c, ci, ldc);
            return;
        }

        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        FloatVector c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;

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

        if (full) {
            c00.intoArray(c, ci); c01.intoArray(c, ci + L);
            c10.intoArray(c, ci + 1 * ldc); c11.intoArray(c, ci + 1 * ldc + L);
            c20.intoArray(c, ci + 2 * ldc); c21.intoArray(c, ci + 2 * ldc + L);
            c30.intoArray(c, ci + 3 * ldc); c31.intoArray(c, ci + 3 * ldc + L);
            c40.intoArray(c, ci + 4 * ldc); c41.intoArray(c, ci + 4 * ldc + L);
            c50.intoArray(c, ci + 5 * ldc); c51.intoArray(c, ci + 5 * ldc + L);
            c60.intoArray(c, ci + 6 * ldc); c61.intoArray(c, ci + 6 * ldc + L);
            c70.intoArray(c, ci + 7 * ldc); c71.intoArray(c, ci + 7 * ldc + L);
            return;
        }
        c00.intoArray(edge, 0 * L);
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
            if (cols == NR) {
                // a short tile of full rows (a conv with 6 output channels has only these):
                // whole vectors, each branch ending in its own store so no vector value merges
                if (first) {
                    FloatVector.fromArray(S, edge, t).intoArray(c, o);
                    FloatVector.fromArray(S, edge, t + L).intoArray(c, o + L);
                } else {
                    FloatVector.fromArray(S, edge, t).add(FloatVector.fromArray(S, c, o)).intoArray(c, o);
                    FloatVector.fromArray(S, edge, t + L).add(FloatVector.fromArray(S, c, o + L)).intoArray(c, o + L);
                }
                continue;
            }
            for (int j = 0; j < cols; j++) c[o + j] = first ? edge[t + j] : c[o + j] + edge[t + j];
        }
    }

    /** A full tile added to C (a later k block, or an accumulating call). */
    private static void tileAccumulate(int kc, float[] pa, int ai, float[] pb, int bi, int ldb, float[] c, int ci, int ldc) {

        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        FloatVector c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;

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

        c00.add(FloatVector.fromArray(S, c, ci)).intoArray(c, ci);
        c01.add(FloatVector.fromArray(S, c, ci + L)).intoArray(c, ci + L);
        c10.add(FloatVector.fromArray(S, c, ci + 1 * ldc)).intoArray(c, ci + 1 * ldc);
        c11.add(FloatVector.fromArray(S, c, ci + 1 * ldc + L)).intoArray(c, ci + 1 * ldc + L);
        c20.add(FloatVector.fromArray(S, c, ci + 2 * ldc)).intoArray(c, ci + 2 * ldc);
        c21.add(FloatVector.fromArray(S, c, ci + 2 * ldc + L)).intoArray(c, ci + 2 * ldc + L);
        c30.add(FloatVector.fromArray(S, c, ci + 3 * ldc)).intoArray(c, ci + 3 * ldc);
        c31.add(FloatVector.fromArray(S, c, ci + 3 * ldc + L)).intoArray(c, ci + 3 * ldc + L);
        c40.add(FloatVector.fromArray(S, c, ci + 4 * ldc)).intoArray(c, ci + 4 * ldc);
        c41.add(FloatVector.fromArray(S, c, ci + 4 * ldc + L)).intoArray(c, ci + 4 * ldc + L);
        c50.add(FloatVector.fromArray(S, c, ci + 5 * ldc)).intoArray(c, ci + 5 * ldc);
        c51.add(FloatVector.fromArray(S, c, ci + 5 * ldc + L)).intoArray(c, ci + 5 * ldc + L);
        c60.add(FloatVector.fromArray(S, c, ci + 6 * ldc)).intoArray(c, ci + 6 * ldc);
        c61.add(FloatVector.fromArray(S, c, ci + 6 * ldc + L)).intoArray(c, ci + 6 * ldc + L);
        c70.add(FloatVector.fromArray(S, c, ci + 7 * ldc)).intoArray(c, ci + 7 * ldc);
        c71.add(FloatVector.fromArray(S, c, ci + 7 * ldc + L)).intoArray(c, ci + 7 * ldc + L);
    }
}
