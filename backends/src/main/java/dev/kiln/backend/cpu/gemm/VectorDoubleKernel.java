package dev.kiln.backend.cpu.gemm;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The double register-tiled micro-kernel: an MR x NR tile of C (8 rows x 2 vectors) held in
 * 16 accumulator registers while one packed A panel and one packed B panel stream past.
 *
 * <p>Fully unrolled on purpose: C2 only keeps Vector API values in registers
 * when every accumulator is a separate local, with no arrays or loops over accumulators. The
 * panels are zero-padded, so the k loop always runs the full tile; only the write-back looks at
 * the ragged edge.
 */
final class VectorDoubleKernel implements DoubleMicroKernel {
    static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
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
    public void tile(int kc, double[] pa, int ai, double[] pb, int bi,
                     double[] c, int ci, int ldc, int rows, int cols, boolean first, double[] edge) {
        DoubleVector c00 = DoubleVector.zero(S), c01 = DoubleVector.zero(S);
        DoubleVector c10 = DoubleVector.zero(S), c11 = DoubleVector.zero(S);
        DoubleVector c20 = DoubleVector.zero(S), c21 = DoubleVector.zero(S);
        DoubleVector c30 = DoubleVector.zero(S), c31 = DoubleVector.zero(S);
        DoubleVector c40 = DoubleVector.zero(S), c41 = DoubleVector.zero(S);
        DoubleVector c50 = DoubleVector.zero(S), c51 = DoubleVector.zero(S);
        DoubleVector c60 = DoubleVector.zero(S), c61 = DoubleVector.zero(S);
        DoubleVector c70 = DoubleVector.zero(S), c71 = DoubleVector.zero(S);
        for (int p = 0; p < kc; p++) {
            DoubleVector b0 = DoubleVector.fromArray(S, pb, bi);
            DoubleVector b1 = DoubleVector.fromArray(S, pb, bi + L);
            DoubleVector a;
            a = DoubleVector.broadcast(S, pa[ai]); c00 = a.fma(b0, c00); c01 = a.fma(b1, c01);
            a = DoubleVector.broadcast(S, pa[ai + 1]); c10 = a.fma(b0, c10); c11 = a.fma(b1, c11);
            a = DoubleVector.broadcast(S, pa[ai + 2]); c20 = a.fma(b0, c20); c21 = a.fma(b1, c21);
            a = DoubleVector.broadcast(S, pa[ai + 3]); c30 = a.fma(b0, c30); c31 = a.fma(b1, c31);
            a = DoubleVector.broadcast(S, pa[ai + 4]); c40 = a.fma(b0, c40); c41 = a.fma(b1, c41);
            a = DoubleVector.broadcast(S, pa[ai + 5]); c50 = a.fma(b0, c50); c51 = a.fma(b1, c51);
            a = DoubleVector.broadcast(S, pa[ai + 6]); c60 = a.fma(b0, c60); c61 = a.fma(b1, c61);
            a = DoubleVector.broadcast(S, pa[ai + 7]); c70 = a.fma(b0, c70); c71 = a.fma(b1, c71);
            ai += MR;
            bi += NR;
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

    private static void store(DoubleVector acc, double[] c, int i, boolean first) {
        (first ? acc : acc.add(DoubleVector.fromArray(S, c, i))).intoArray(c, i);
    }
}
