package dev.kiln.backend.cpu.vector;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/** Vector API row loops; loaded only when jdk.incubator.vector is readable. */
final class PanamaFloatRows implements FloatRows {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /**
     * Lane sources for a horizontal sum in a fixed order: step i adds the upper half of the
     * lanes still in play onto the lower half. {@code reduceLanes(ADD)} may add in any order,
     * and its C2 intrinsic and its Java fallback (interpreter, C1) do differ, so a dot product
     * would change its last bits with the JIT's progress; lane-wise adds are exact IEEE
     * operations wherever they run. One constant per step (null past log2 of the lane count):
     * a loop over an array of them carried the vector from one iteration to the next, which C2
     * cannot keep in a register, and every add ran boxed in the Vector API's Java fallback
     * (JFR: 41% of an MLP's inference in FloatVector.lanewiseTemplate under sumLanes).
     */
    private static final int HALVING_STEPS = Integer.numberOfTrailingZeros(S.length());
    private static final VectorShuffle<Float> HALF0 = halving(0), HALF1 = halving(1), HALF2 = halving(2), HALF3 = halving(3),
            HALF4 = halving(4), HALF5 = halving(5);

    private static VectorShuffle<Float> halving(int step) {
        int lanes = S.length();
        if (step >= Integer.numberOfTrailingZeros(lanes)) return null;
        int half = lanes >> (step + 1);
        int[] src = new int[lanes];
        for (int q = 0; q < lanes; q++) src[q] = q < half ? q + half : q;
        return VectorShuffle.fromArray(S, src, 0);
    }

    /** The sum of v's lanes, always added in the same order (see {@link #HALF0}); up to 64 lanes, the API's widest. */
    static float sumLanes(FloatVector v) {
        if (HALVING_STEPS > 0) v = v.add(v.rearrange(HALF0));
        if (HALVING_STEPS > 1) v = v.add(v.rearrange(HALF1));
        if (HALVING_STEPS > 2) v = v.add(v.rearrange(HALF2));
        if (HALVING_STEPS > 3) v = v.add(v.rearrange(HALF3));
        if (HALVING_STEPS > 4) v = v.add(v.rearrange(HALF4));
        if (HALVING_STEPS > 5) v = v.add(v.rearrange(HALF5));
        return v.lane(0);
    }

    /** Int lanes of the same count as S, so a float compare mask selects indices lane for lane. */
    static final VectorSpecies<Integer> IS = S.withLanes(int.class);

    private static final ScalarFloatRows SCALAR = new ScalarFloatRows();

    /**
     * The convolution rows step two vectors at a time within CONV_GRANULE and one within
     * VECTOR_GRANULE; vectors wider than 512 bits (ARM SVE allows 2048) would step past the
     * buffers callers size by them, so there the scalar rows run instead.
     */
    private static final boolean GRANULES_FIT = 2 * S.length() <= CONV_GRANULE && VECTOR_GRANULE % S.length() == 0;

    @Override
    public void binary(Binary op, float[] a, int ao, int as, float[] b, int bo, int bs, float[] out, int oo, int n) {
        if (op == Binary.GELU_GRAD) {
            geluGrad(a, ao, as, b, bo, bs, out, oo, n);
            return;
        }
        boolean aOk = as == 1 || as == 0, bOk = bs == 1 || bs == 0;
        if (!aOk || !bOk || op == Binary.MAX || op == Binary.MIN) {
            SCALAR.binary(op, a, ao, as, b, bo, bs, out, oo, n);
            return;
        }
        int L = S.length(), bound = S.loopBound(n), i = 0;
        // One loop per operand layout, with the broadcast made inside it: a "vector or null"
        // local merged into the loop body (the old form) is a phi C2 cannot scalarize, so every
        // iteration allocated a FloatVector (JFR: ~5 GB/s of allocation in a training loop).
        if (as == 1 && bs == 1) {
            for (; i < bound; i += L) apply(op, FloatVector.fromArray(S, a, ao + i), FloatVector.fromArray(S, b, bo + i)).intoArray(out, oo + i);
        } else if (as == 0 && bs == 1) {
            float x = a[ao];
            for (; i < bound; i += L) apply(op, FloatVector.broadcast(S, x), FloatVector.fromArray(S, b, bo + i)).intoArray(out, oo + i);
        } else if (as == 1) {
            float y = b[bo];
            for (; i < bound; i += L) apply(op, FloatVector.fromArray(S, a, ao + i), FloatVector.broadcast(S, y)).intoArray(out, oo + i);
        }
        if (i < n) SCALAR.binary(op, a, ao + i * as, as, b, bo + i * bs, bs, out, oo + i, n - i);
    }

    private static FloatVector apply(Binary op, FloatVector av, FloatVector bv) {
        return switch (op) {
            case ADD -> av.add(bv);
            case SUB -> av.sub(bv);
            case MUL -> av.mul(bv);
            case DIV -> av.div(bv);
            default -> throw new AssertionError(op);
        };
    }

    @Override
    public void compare(Compare op, float[] a, int ao, int as, float[] b, int bo, int bs, boolean[] out, int oo, int n) {
        if (!(as == 1 || as == 0) || !(bs == 1 || bs == 0)) {
            SCALAR.compare(op, a, ao, as, b, bo, bs, out, oo, n);
            return;
        }
        int L = S.length(), bound = S.loopBound(n), i = 0;
        // one loop per operand layout, as in binary()
        if (as == 1 && bs == 1) {
            for (; i < bound; i += L) compare(op, FloatVector.fromArray(S, a, ao + i), FloatVector.fromArray(S, b, bo + i)).intoArray(out, oo + i);
        } else if (as == 0 && bs == 1) {
            float x = a[ao];
            for (; i < bound; i += L) compare(op, FloatVector.broadcast(S, x), FloatVector.fromArray(S, b, bo + i)).intoArray(out, oo + i);
        } else if (as == 1) {
            float y = b[bo];
            for (; i < bound; i += L) compare(op, FloatVector.fromArray(S, a, ao + i), FloatVector.broadcast(S, y)).intoArray(out, oo + i);
        }
        if (i < n) SCALAR.compare(op, a, ao + i * as, as, b, bo + i * bs, bs, out, oo + i, n - i);
    }

    private static VectorMask<Float> compare(Compare op, FloatVector av, FloatVector bv) {
        // the operator must be a constant at each call site, or C2 does not intrinsify compare
        return switch (op) {
            case EQ -> av.compare(VectorOperators.EQ, bv);
            case NE -> av.compare(VectorOperators.NE, bv);
            case LT -> av.compare(VectorOperators.LT, bv);
            case LE -> av.compare(VectorOperators.LE, bv);
            case GT -> av.compare(VectorOperators.GT, bv);
            case GE -> av.compare(VectorOperators.GE, bv);
        };
    }

    @Override
    public void select(boolean[] c, int co, int cs, float[] x, int xo, int xs, float[] y, int yo, int ys, float[] out, int oo, int n) {
        if (cs != 1 || !(xs == 1 || xs == 0) || !(ys == 1 || ys == 0)) {
            SCALAR.select(c, co, cs, x, xo, xs, y, yo, ys, out, oo, n);
            return;
        }
        int L = S.length(), bound = S.loopBound(n), i = 0;
        // one loop per operand layout, as in binary()
        if (xs == 1 && ys == 1) {
            for (; i < bound; i += L) FloatVector.fromArray(S, y, yo + i).blend(FloatVector.fromArray(S, x, xo + i), VectorMask.fromArray(S, c, co + i)).intoArray(out, oo + i);
        } else if (xs == 0 && ys == 1) {
            float xc = x[xo];
            for (; i < bound; i += L) FloatVector.fromArray(S, y, yo + i).blend(FloatVector.broadcast(S, xc), VectorMask.fromArray(S, c, co + i)).intoArray(out, oo + i);
        } else if (xs == 1) {
            float yc = y[yo];
            for (; i < bound; i += L) FloatVector.broadcast(S, yc).blend(FloatVector.fromArray(S, x, xo + i), VectorMask.fromArray(S, c, co + i)).intoArray(out, oo + i);
        }
        if (i < n) SCALAR.select(c, co + i, cs, x, xo + i * xs, xs, y, yo + i * ys, ys, out, oo + i, n - i);
    }

    @Override
    public void product(int m, int n, int k, float[] a, int ao, int ars, int acs, float[] b, int bo, int ldb,
                        float[] c, int co, int ldc, boolean accumulate) {
        PanamaProduct.product(m, n, k, a, ao, ars, acs, b, bo, ldb, c, co, ldc, accumulate);
    }

    @Override
    public void dotRows(int m, int n, int k, float[] a, int ao, int lda, float[] b, int bo, int ldb,
                        float[] c, int co, int ldc, boolean accumulate) {
        int i = 0;
        for (; i + 4 <= m; i += 4) {
            int j = 0;
            for (; j + 4 <= n; j += 4) dot4x4(k, a, ao + i * lda, lda, b, bo + j * ldb, ldb, c, co + i * ldc + j, ldc, accumulate);
            for (; j < n; j++) {
                for (int r = i; r < i + 4; r++) {
                    float s = dot(k, a, ao + r * lda, b, bo + j * ldb);
                    int ci = co + r * ldc + j;
                    c[ci] = accumulate ? c[ci] + s : s;
                }
            }
        }
        for (; i + 2 <= m; i += 2) {
            int j = 0;
            for (; j + 4 <= n; j += 4) dot2x4(k, a, ao + i * lda, lda, b, bo + j * ldb, ldb, c, co + i * ldc + j, ldc, accumulate);
            for (; j < n; j++) {
                for (int r = i; r < i + 2; r++) {
                    float s = dot(k, a, ao + r * lda, b, bo + j * ldb);
                    int ci = co + r * ldc + j;
                    c[ci] = accumulate ? c[ci] + s : s;
                }
            }
        }
        for (; i < m; i++) {
            int j = 0;
            for (; j + 4 <= n; j += 4) dot1x4(k, a, ao + i * lda, b, bo + j * ldb, ldb, c, co + i * ldc + j, accumulate);
            for (; j < n; j++) {
                float s = dot(k, a, ao + i * lda, b, bo + j * ldb);
                int ci = co + i * ldc + j;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }

    /**
     * A 4 x 4 block of dot products: 8 vector loads feed 16 FMAs, so the FMA ports, not the
     * loads, set the pace (a linear layer's x @ W^T at batch 64 runs faster this way than
     * through the packed GEMM, whose packing of W^T is a transpose). Each result is summed as
     * {@link #dot} sums it.
     */
    private static void dot4x4(int k, float[] a, int a0, int lda, float[] b, int b0, int ldb, float[] c, int c0, int ldc, boolean accumulate) {
        int L = S.length(), bound = S.loopBound(k);
        int a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
        FloatVector s00 = FloatVector.zero(S), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        FloatVector s20 = s00, s21 = s00, s22 = s00, s23 = s00, s30 = s00, s31 = s00, s32 = s00, s33 = s00;
        int p = 0;
        for (; p < bound; p += L) {
            FloatVector y0 = FloatVector.fromArray(S, b, b0 + p), y1 = FloatVector.fromArray(S, b, b1 + p);
            FloatVector y2 = FloatVector.fromArray(S, b, b2 + p), y3 = FloatVector.fromArray(S, b, b3 + p);
            FloatVector x = FloatVector.fromArray(S, a, a0 + p);
            s00 = x.fma(y0, s00); s01 = x.fma(y1, s01); s02 = x.fma(y2, s02); s03 = x.fma(y3, s03);
            x = FloatVector.fromArray(S, a, a1 + p);
            s10 = x.fma(y0, s10); s11 = x.fma(y1, s11); s12 = x.fma(y2, s12); s13 = x.fma(y3, s13);
            x = FloatVector.fromArray(S, a, a2 + p);
            s20 = x.fma(y0, s20); s21 = x.fma(y1, s21); s22 = x.fma(y2, s22); s23 = x.fma(y3, s23);
            x = FloatVector.fromArray(S, a, a3 + p);
            s30 = x.fma(y0, s30); s31 = x.fma(y1, s31); s32 = x.fma(y2, s32); s33 = x.fma(y3, s33);
        }
        float[] r = {sumLanes(s00), sumLanes(s01), sumLanes(s02), sumLanes(s03),
                sumLanes(s10), sumLanes(s11), sumLanes(s12), sumLanes(s13),
                sumLanes(s20), sumLanes(s21), sumLanes(s22), sumLanes(s23),
                sumLanes(s30), sumLanes(s31), sumLanes(s32), sumLanes(s33)};
        for (; p < k; p++) {
            float y0 = b[b0 + p], y1 = b[b1 + p], y2 = b[b2 + p], y3 = b[b3 + p];
            float x0 = a[a0 + p], x1 = a[a1 + p], x2 = a[a2 + p], x3 = a[a3 + p];
            r[0] += x0 * y0; r[1] += x0 * y1; r[2] += x0 * y2; r[3] += x0 * y3;
            r[4] += x1 * y0; r[5] += x1 * y1; r[6] += x1 * y2; r[7] += x1 * y3;
            r[8] += x2 * y0; r[9] += x2 * y1; r[10] += x2 * y2; r[11] += x2 * y3;
            r[12] += x3 * y0; r[13] += x3 * y1; r[14] += x3 * y2; r[15] += x3 * y3;
        }
        for (int q = 0; q < 16; q++) {
            int ci = c0 + (q / 4) * ldc + q % 4;
            c[ci] = accumulate ? c[ci] + r[q] : r[q];
        }
    }

    /** A 2 x 4 block of dot products: 6 vector loads feed 8 FMAs, accumulators stay in registers. */
    private static void dot2x4(int k, float[] a, int a0, int lda, float[] b, int b0, int ldb, float[] c, int c0, int ldc, boolean accumulate) {
        int L = S.length(), bound = S.loopBound(k);
        int a1 = a0 + lda, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
        FloatVector s00 = FloatVector.zero(S), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        int p = 0;
        for (; p < bound; p += L) {
            FloatVector x0 = FloatVector.fromArray(S, a, a0 + p), x1 = FloatVector.fromArray(S, a, a1 + p);
            FloatVector y = FloatVector.fromArray(S, b, b0 + p);
            s00 = x0.fma(y, s00);
            s10 = x1.fma(y, s10);
            y = FloatVector.fromArray(S, b, b1 + p);
            s01 = x0.fma(y, s01);
            s11 = x1.fma(y, s11);
            y = FloatVector.fromArray(S, b, b2 + p);
            s02 = x0.fma(y, s02);
            s12 = x1.fma(y, s12);
            y = FloatVector.fromArray(S, b, b3 + p);
            s03 = x0.fma(y, s03);
            s13 = x1.fma(y, s13);
        }
        float[] r = {sumLanes(s00), sumLanes(s01), sumLanes(s02),
                sumLanes(s03), sumLanes(s10), sumLanes(s11),
                sumLanes(s12), sumLanes(s13)};
        for (; p < k; p++) {
            float x0 = a[a0 + p], x1 = a[a1 + p];
            float y0 = b[b0 + p], y1 = b[b1 + p], y2 = b[b2 + p], y3 = b[b3 + p];
            r[0] += x0 * y0; r[1] += x0 * y1; r[2] += x0 * y2; r[3] += x0 * y3;
            r[4] += x1 * y0; r[5] += x1 * y1; r[6] += x1 * y2; r[7] += x1 * y3;
        }
        for (int q = 0; q < 8; q++) {
            int ci = c0 + (q / 4) * ldc + q % 4;
            c[ci] = accumulate ? c[ci] + r[q] : r[q];
        }
    }

    /**
     * One row against four: four independent accumulators, so the FMA latency is hidden (a
     * lone dot product waits ~4 cycles per step; a linear layer at batch 1 is all such rows).
     * Each result is summed exactly as {@link #dot} sums it.
     */
    private static void dot1x4(int k, float[] a, int a0, float[] b, int b0, int ldb, float[] c, int c0, boolean accumulate) {
        int L = S.length(), bound = S.loopBound(k);
        int b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        int p = 0;
        for (; p < bound; p += L) {
            FloatVector x = FloatVector.fromArray(S, a, a0 + p);
            s0 = x.fma(FloatVector.fromArray(S, b, b0 + p), s0);
            s1 = x.fma(FloatVector.fromArray(S, b, b1 + p), s1);
            s2 = x.fma(FloatVector.fromArray(S, b, b2 + p), s2);
            s3 = x.fma(FloatVector.fromArray(S, b, b3 + p), s3);
        }
        float r0 = sumLanes(s0), r1 = sumLanes(s1);
        float r2 = sumLanes(s2), r3 = sumLanes(s3);
        for (; p < k; p++) {
            float x = a[a0 + p];
            r0 += x * b[b0 + p];
            r1 += x * b[b1 + p];
            r2 += x * b[b2 + p];
            r3 += x * b[b3 + p];
        }
        c[c0] = accumulate ? c[c0] + r0 : r0;
        c[c0 + 1] = accumulate ? c[c0 + 1] + r1 : r1;
        c[c0 + 2] = accumulate ? c[c0 + 2] + r2 : r2;
        c[c0 + 3] = accumulate ? c[c0 + 3] + r3 : r3;
    }

    @Override
    public double dot(float[] a, int ao, float[] b, int bo, int n) {
        double total = 0;
        for (int s = 0; s < n; s += SUM_BLOCK) total += dot(Math.min(SUM_BLOCK, n - s), a, ao + s, b, bo + s);
        return total;
    }

    private static float dot(int k, float[] a, int a0, float[] b, int b0) {
        int L = S.length(), bound = S.loopBound(k), p = 0;
        FloatVector s = FloatVector.zero(S);
        for (; p < bound; p += L) s = FloatVector.fromArray(S, a, a0 + p).fma(FloatVector.fromArray(S, b, b0 + p), s);
        float r = sumLanes(s);
        for (; p < k; p++) r += a[a0 + p] * b[b0 + p];
        return r;
    }

    @Override
    public void argmaxStep(float[] x, int xo, int[] map, float[] best, int[] idx, int cand, int n) {
        int L = S.length(), bound = S.loopBound(n), j = 0;
        for (; j < bound; j += L) {
            // window taps are strided in the image: gather them through the index map
            FloatVector v = FloatVector.fromArray(S, x, xo, map, j);
            FloatVector b = FloatVector.fromArray(S, best, j);
            VectorMask<Float> take = v.compare(VectorOperators.GT, b).or(v.test(VectorOperators.IS_NAN));
            b.blend(v, take).intoArray(best, j);
            IntVector c = IntVector.fromArray(IS, map, j).add(cand);
            IntVector.fromArray(IS, idx, j).blend(c, take.cast(IS)).intoArray(idx, j);
        }
        for (; j < n; j++) {
            float v = x[xo + map[j]];
            if (v > best[j] || v != v) {
                best[j] = v;
                idx[j] = cand + map[j];
            }
        }
    }

    /** Lane sources picking the even / odd elements of two consecutive vectors (negative: the second). */
    private static final VectorShuffle<Float> EVENS = pairShuffle(0), ODDS = pairShuffle(1);
    private static final IntVector ONES = IntVector.broadcast(IS, 1), ZEROS = IntVector.zero(IS);

    private static VectorShuffle<Float> pairShuffle(int parity) {
        int L = S.length();
        int[] src = new int[L];
        for (int q = 0; q < L; q++) {
            int at = 2 * q + parity;
            src[q] = at < L ? at : at - 2 * L; // exceptional index: lane at - L of the second vector
        }
        return VectorShuffle.fromArray(S, src, 0);
    }

    /**
     * Short runs as one masked vector load and store each: an arraycopy call costs ~15 ns
     * whatever its length, and a plain loop over 10 floats never reaches C2's vectorized body.
     * (A masked access whose masked-off lanes pass the array's end takes the API's checked
     * path: correct, only slower, and only at an array's end.)
     */
    @Override
    public void copyRows(float[] src, int so, int srcStride, float[] dst, int dO, int dstStride, int rows, int len) {
        int L = S.length();
        if (len > 4 * L) {
            for (int r = 0; r < rows; r++) System.arraycopy(src, so + r * srcStride, dst, dO + r * dstStride, len);
            return;
        }
        int full = (len - 1) / L * L; // whole vectors before the (masked, non-empty) last one
        VectorMask<Float> m = S.indexInRange(full, len);
        for (int r = 0; r < rows; r++) {
            int a = so + r * srcStride, b = dO + r * dstStride;
            for (int i = 0; i < full; i += L) FloatVector.fromArray(S, src, a + i).intoArray(dst, b + i);
            FloatVector.fromArray(S, src, a + full, m).intoArray(dst, b + full, m);
        }
    }

    /**
     * Four output channels by two vectors of positions per block: each pair of input loads
     * feeds eight FMAs (one broadcast weight per channel), and the eight sums stay in
     * registers for all the taps. Positions run in whole blocks (CONV_GRANULE is a multiple of
     * two vectors), so nothing is masked.
     */
    @Override
    public void convDirect(float[] in, int io, int planeStride, int channels, int kh, int kw, int wp, float[] w, int wo,
                           float[] bias, int bo, float[] out, int oo, int ldo, int no, int positions) {
        if (!GRANULES_FIT) {
            SCALAR.convDirect(in, io, planeStride, channels, kh, kw, wp, w, wo, bias, bo, out, oo, ldo, no, positions);
            return;
        }
        int step = 2 * S.length(), taps = channels * kh * kw, oc = 0;
        for (; oc + 4 <= no; oc += 4) {
            for (int p = 0; p < positions; p += step) {
                convBlock4(in, io + p, planeStride, channels, kh, kw, wp, w, wo + oc * taps, taps, bias, bo + oc, out, oo + oc * ldo + p, ldo);
            }
        }
        for (; oc + 2 <= no; oc += 2) {
            for (int p = 0; p < positions; p += step) {
                convBlock2(in, io + p, planeStride, channels, kh, kw, wp, w, wo + oc * taps, taps, bias, bo + oc, out, oo + oc * ldo + p, ldo);
            }
        }
        for (; oc < no; oc++) {
            for (int p = 0; p < positions; p += step) {
                convBlock1(in, io + p, planeStride, channels, kh, kw, wp, w, wo + oc * taps, bias, bo + oc, out, oo + oc * ldo + p);
            }
        }
    }

    private static FloatVector convInit(float[] bias, int at) {
        return bias == null ? FloatVector.zero(S) : FloatVector.broadcast(S, bias[at]);
    }

    private static void convBlock4(float[] in, int io, int planeStride, int channels, int kh, int kw, int wp, float[] w, int w0, int taps,
                                   float[] bias, int bo, float[] out, int oo, int ldo) {
        int L = S.length();
        FloatVector a0 = convInit(bias, bo), b0 = a0, a1 = convInit(bias, bo + 1), b1 = a1;
        FloatVector a2 = convInit(bias, bo + 2), b2 = a2, a3 = convInit(bias, bo + 3), b3 = a3;
        for (int c = 0, t = w0; c < channels; c++) {
            for (int ki = 0; ki < kh; ki++) {
                int row = io + c * planeStride + ki * wp;
                for (int kj = 0; kj < kw; kj++, t++) {
                    FloatVector x = FloatVector.fromArray(S, in, row + kj), y = FloatVector.fromArray(S, in, row + kj + L);
                    FloatVector v0 = FloatVector.broadcast(S, w[t]), v1 = FloatVector.broadcast(S, w[t + taps]);
                    FloatVector v2 = FloatVector.broadcast(S, w[t + 2 * taps]), v3 = FloatVector.broadcast(S, w[t + 3 * taps]);
                    a0 = v0.fma(x, a0);
                    b0 = v0.fma(y, b0);
                    a1 = v1.fma(x, a1);
                    b1 = v1.fma(y, b1);
                    a2 = v2.fma(x, a2);
                    b2 = v2.fma(y, b2);
                    a3 = v3.fma(x, a3);
                    b3 = v3.fma(y, b3);
                }
            }
        }
        a0.intoArray(out, oo);
        b0.intoArray(out, oo + L);
        a1.intoArray(out, oo + ldo);
        b1.intoArray(out, oo + ldo + L);
        a2.intoArray(out, oo + 2 * ldo);
        b2.intoArray(out, oo + 2 * ldo + L);
        a3.intoArray(out, oo + 3 * ldo);
        b3.intoArray(out, oo + 3 * ldo + L);
    }

    private static void convBlock2(float[] in, int io, int planeStride, int channels, int kh, int kw, int wp, float[] w, int w0, int taps,
                                   float[] bias, int bo, float[] out, int oo, int ldo) {
        int L = S.length();
        FloatVector a0 = convInit(bias, bo), b0 = a0, a1 = convInit(bias, bo + 1), b1 = a1;
        for (int c = 0, t = w0; c < channels; c++) {
            for (int ki = 0; ki < kh; ki++) {
                int row = io + c * planeStride + ki * wp;
                for (int kj = 0; kj < kw; kj++, t++) {
                    FloatVector x = FloatVector.fromArray(S, in, row + kj), y = FloatVector.fromArray(S, in, row + kj + L);
                    FloatVector v0 = FloatVector.broadcast(S, w[t]), v1 = FloatVector.broadcast(S, w[t + taps]);
                    a0 = v0.fma(x, a0);
                    b0 = v0.fma(y, b0);
                    a1 = v1.fma(x, a1);
                    b1 = v1.fma(y, b1);
                }
            }
        }
        a0.intoArray(out, oo);
        b0.intoArray(out, oo + L);
        a1.intoArray(out, oo + ldo);
        b1.intoArray(out, oo + ldo + L);
    }

    private static void convBlock1(float[] in, int io, int planeStride, int channels, int kh, int kw, int wp, float[] w, int w0,
                                   float[] bias, int bo, float[] out, int oo) {
        int L = S.length();
        FloatVector a = convInit(bias, bo), b = a;
        for (int c = 0, t = w0; c < channels; c++) {
            for (int ki = 0; ki < kh; ki++) {
                int row = io + c * planeStride + ki * wp;
                for (int kj = 0; kj < kw; kj++, t++) {
                    FloatVector v = FloatVector.broadcast(S, w[t]);
                    a = v.fma(FloatVector.fromArray(S, in, row + kj), a);
                    b = v.fma(FloatVector.fromArray(S, in, row + kj + L), b);
                }
            }
        }
        a.intoArray(out, oo);
        b.intoArray(out, oo + L);
    }

    /**
     * Blocks of four output channels by four neighbouring taps (kj): per position vector, four
     * gradient loads and four shifted input loads feed sixteen FMAs, whose sums stay in registers
     * over all the samples and positions, then are added across lanes in a fixed order. Edge
     * blocks (fewer channels or taps) take one accumulator per (channel, tap).
     */
    @Override
    public void convWeightGrad(float[] in, int io, int inStride, int planeStride, int channels, int kh, int kw, int wp,
                               float[] g, int go, int gStride, int ldg, int no, int samples, int positions, float[] acc, int ao) {
        if (!GRANULES_FIT) {
            SCALAR.convWeightGrad(in, io, inStride, planeStride, channels, kh, kw, wp, g, go, gStride, ldg, no, samples, positions, acc, ao);
            return;
        }
        int taps = channels * kh * kw;
        for (int oc = 0; oc < no; oc += 4) {
            int nOc = Math.min(4, no - oc);
            for (int c = 0; c < channels; c++) {
                for (int ki = 0; ki < kh; ki++) {
                    for (int kj = 0; kj < kw; kj += 4) {
                        int nKj = Math.min(4, kw - kj), shift = io + c * planeStride + ki * wp + kj, a = ao + oc * taps + (c * kh + ki) * kw + kj;
                        if (nOc == 4 && nKj == 4) {
                            weightGrad4x4(in, inStride, shift, g, gStride, go + oc * ldg, ldg, samples, positions, acc, a, taps);
                        } else if (nOc == 4) {
                            for (int j = 0; j < nKj; j++) weightGrad4x1(in, inStride, shift + j, g, gStride, go + oc * ldg, ldg, samples, positions, acc, a + j, taps);
                        } else {
                            for (int o = 0; o < nOc; o++) {
                                for (int j = 0; j < nKj; j++) {
                                    acc[a + o * taps + j] += weightGrad1x1(in, inStride, shift + j, g, gStride, go + (oc + o) * ldg, samples, positions);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static void weightGrad4x4(float[] in, int inStride, int shift, float[] g, int gStride, int g0, int ldg, int samples, int positions,
                                      float[] acc, int a, int taps) {
        int L = S.length();
        FloatVector s00 = FloatVector.zero(S), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        FloatVector s20 = s00, s21 = s00, s22 = s00, s23 = s00, s30 = s00, s31 = s00, s32 = s00, s33 = s00;
        for (int s = 0; s < samples; s++) {
            int xb = s * inStride + shift, gb = s * gStride + g0;
            for (int p = 0; p < positions; p += L) {
                FloatVector x0 = FloatVector.fromArray(S, in, xb + p), x1 = FloatVector.fromArray(S, in, xb + p + 1);
                FloatVector x2 = FloatVector.fromArray(S, in, xb + p + 2), x3 = FloatVector.fromArray(S, in, xb + p + 3);
                FloatVector g0v = FloatVector.fromArray(S, g, gb + p);
                s00 = g0v.fma(x0, s00);
                s01 = g0v.fma(x1, s01);
                s02 = g0v.fma(x2, s02);
                s03 = g0v.fma(x3, s03);
                FloatVector g1v = FloatVector.fromArray(S, g, gb + ldg + p);
                s10 = g1v.fma(x0, s10);
                s11 = g1v.fma(x1, s11);
                s12 = g1v.fma(x2, s12);
                s13 = g1v.fma(x3, s13);
                FloatVector g2v = FloatVector.fromArray(S, g, gb + 2 * ldg + p);
                s20 = g2v.fma(x0, s20);
                s21 = g2v.fma(x1, s21);
                s22 = g2v.fma(x2, s22);
                s23 = g2v.fma(x3, s23);
                FloatVector g3v = FloatVector.fromArray(S, g, gb + 3 * ldg + p);
                s30 = g3v.fma(x0, s30);
                s31 = g3v.fma(x1, s31);
                s32 = g3v.fma(x2, s32);
                s33 = g3v.fma(x3, s33);
            }
        }
        acc[a] += sumLanes(s00);
        acc[a + 1] += sumLanes(s01);
        acc[a + 2] += sumLanes(s02);
        acc[a + 3] += sumLanes(s03);
        acc[a + taps] += sumLanes(s10);
        acc[a + taps + 1] += sumLanes(s11);
        acc[a + taps + 2] += sumLanes(s12);
        acc[a + taps + 3] += sumLanes(s13);
        acc[a + 2 * taps] += sumLanes(s20);
        acc[a + 2 * taps + 1] += sumLanes(s21);
        acc[a + 2 * taps + 2] += sumLanes(s22);
        acc[a + 2 * taps + 3] += sumLanes(s23);
        acc[a + 3 * taps] += sumLanes(s30);
        acc[a + 3 * taps + 1] += sumLanes(s31);
        acc[a + 3 * taps + 2] += sumLanes(s32);
        acc[a + 3 * taps + 3] += sumLanes(s33);
    }

    private static void weightGrad4x1(float[] in, int inStride, int shift, float[] g, int gStride, int g0, int ldg, int samples, int positions,
                                      float[] acc, int a, int taps) {
        int L = S.length();
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        for (int s = 0; s < samples; s++) {
            int xb = s * inStride + shift, gb = s * gStride + g0;
            for (int p = 0; p < positions; p += L) {
                FloatVector x = FloatVector.fromArray(S, in, xb + p);
                s0 = FloatVector.fromArray(S, g, gb + p).fma(x, s0);
                s1 = FloatVector.fromArray(S, g, gb + ldg + p).fma(x, s1);
                s2 = FloatVector.fromArray(S, g, gb + 2 * ldg + p).fma(x, s2);
                s3 = FloatVector.fromArray(S, g, gb + 3 * ldg + p).fma(x, s3);
            }
        }
        acc[a] += sumLanes(s0);
        acc[a + taps] += sumLanes(s1);
        acc[a + 2 * taps] += sumLanes(s2);
        acc[a + 3 * taps] += sumLanes(s3);
    }

    private static float weightGrad1x1(float[] in, int inStride, int shift, float[] g, int gStride, int g0, int samples, int positions) {
        int L = S.length();
        FloatVector sum = FloatVector.zero(S);
        for (int s = 0; s < samples; s++) {
            int xb = s * inStride + shift, gb = s * gStride + g0;
            for (int p = 0; p < positions; p += L) sum = FloatVector.fromArray(S, g, gb + p).fma(FloatVector.fromArray(S, in, xb + p), sum);
        }
        return sumLanes(sum);
    }

    /**
     * Each row's neighbour pairs split into even and odd taps by two-source rearranges (as
     * {@link #pairMax}), the rule applied within the top pair, the bottom pair, and then between
     * them: the same tap as over the four in row-major order (see PoolKernels.pool2x2).
     */
    @Override
    public void maxPool2x2Row(float[] x, int top, int wp, float[] out, int oo, int wo) {
        if (!GRANULES_FIT) {
            SCALAR.maxPool2x2Row(x, top, wp, out, oo, wo);
            return;
        }
        int L = S.length();
        for (int j = 0; j < wo; j += L) {
            FloatVector up = pairWinner(x, top + 2 * j, L), down = pairWinner(x, top + wp + 2 * j, L);
            FloatVector best = up.blend(down, down.compare(VectorOperators.GT, up).or(down.test(VectorOperators.IS_NAN)));
            if (j + L <= wo) best.intoArray(out, oo + j);
            else best.intoArray(out, oo + j, S.indexInRange(j, wo));
        }
    }

    private static FloatVector pairWinner(float[] x, int at, int L) {
        FloatVector lo = FloatVector.fromArray(S, x, at), hi = FloatVector.fromArray(S, x, at + L);
        FloatVector a = lo.rearrange(EVENS, hi), b = lo.rearrange(ODDS, hi);
        return a.blend(b, b.compare(VectorOperators.GT, a).or(b.test(VectorOperators.IS_NAN)));
    }

    @Override
    public void pairMax(float[] x, int xo, float[] best, int bo, int[] second, int so, int n) {
        int L = S.length(), q = 0;
        // two vectors in, one out: deinterleaved with two-source rearranges instead of the
        // gathers the general tap loop uses (AMD's vector gathers run ~1 element per cycle)
        for (; q + L <= n; q += L) {
            FloatVector lo = FloatVector.fromArray(S, x, xo + 2 * q), hi = FloatVector.fromArray(S, x, xo + 2 * q + L);
            FloatVector a = lo.rearrange(EVENS, hi), b = lo.rearrange(ODDS, hi);
            VectorMask<Float> t = b.compare(VectorOperators.GT, a).or(b.test(VectorOperators.IS_NAN));
            a.blend(b, t).intoArray(best, bo + q);
            ONES.blend(ZEROS, t.not().cast(IS)).intoArray(second, so + q);
        }
        if (q < n) SCALAR.pairMax(x, xo + 2 * q, best, bo + q, second, so + q, n - q);
    }

    @Override
    public void takesSecond(float[] a, int ao, float[] b, int bo, int[] second, int so, int n) {
        int L = S.length(), bound = S.loopBound(n), i = 0;
        for (; i < bound; i += L) {
            FloatVector y = FloatVector.fromArray(S, b, bo + i);
            VectorMask<Float> t = y.compare(VectorOperators.GT, FloatVector.fromArray(S, a, ao + i)).or(y.test(VectorOperators.IS_NAN));
            ONES.blend(ZEROS, t.not().cast(IS)).intoArray(second, so + i);
        }
        if (i < n) {
            // a masked tail, not the scalar twin: pooled rows are often shorter than a vector
            // (14 or 5 wide in LeNet), and the scalar compare branches on random data
            VectorMask<Float> in = S.indexInRange(i, n);
            FloatVector y = FloatVector.fromArray(S, b, bo + i, in);
            VectorMask<Float> t = y.compare(VectorOperators.GT, FloatVector.fromArray(S, a, ao + i, in)).or(y.test(VectorOperators.IS_NAN));
            ONES.blend(ZEROS, t.not().cast(IS)).intoArray(second, so + i, in.cast(IS));
        }
    }

    @Override
    public void unary(Unary op, float[] x, int xo, float[] out, int oo, int n) {
        int L = S.length();
        int whole = S.loopBound(n);
        boolean transcendental = op == Unary.SIGMOID || op == Unary.EXP || op == Unary.TANH || op == Unary.GELU || op == Unary.ERF;
        unaryVectors(op, x, xo, out, oo, whole);
        if (whole == n) return;
        if (transcendental) {
            // the tail through the same vector code, not the scalar twin: these lanes round
            // differently from the double-computed twin, and an element must get the same bits
            // wherever a row starts (eager rows and fused blocks cut the index space in different
            // places). Padded into a whole vector rather than masked: masked loads and stores near
            // an array's end take the Vector API's slow checked path on JDK 17.
            float[] tail = new float[L];
            System.arraycopy(x, xo + whole, tail, 0, n - whole);
            unaryVectors(op, tail, 0, tail, 0, L);
            System.arraycopy(tail, 0, out, oo + whole, n - whole);
        } else {
            SCALAR.unary(op, x, xo + whole, out, oo + whole, n - whole);
        }
    }

    /**
     * op over whole vectors (n a multiple of the lane count). One loop per op, each in its own
     * method, with the long lane functions (gelu, erf, sigmoid) written inside their loops. The
     * Vector API's intrinsics need the exact vector class, which C2 knows only where the vector
     * was made, so every lane function must inline into the loop that loads its vector. A single
     * loop over a switch of all lane functions inlined none of the long ones (over C2's size
     * limits), and a lane function C2 had already compiled on its own was later refused for
     * inlining as too large: then each vector was boxed and blended in the API's Java fallback
     * (JFR on JDK 25: FloatVector.blendTemplate on top), 2.7 ms per 2^20 gelus, and even neg
     * took 1.1 ms.
     */
    private static void unaryVectors(Unary op, float[] x, int xo, float[] out, int oo, int n) {
        switch (op) {
            case NEG -> negRows(x, xo, out, oo, n);
            case ABS -> absRows(x, xo, out, oo, n);
            case RELU -> reluRows(x, xo, out, oo, n);
            case SQRT -> sqrtRows(x, xo, out, oo, n);
            case EXP -> expRows(x, xo, out, oo, n);
            case TANH -> tanhRows(x, xo, out, oo, n);
            case SIGMOID -> sigmoidRows(x, xo, out, oo, n);
            case GELU -> geluRows(x, xo, out, oo, n);
            case ERF -> erfRows(x, xo, out, oo, n);
        }
    }

    private static void negRows(float[] x, int xo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += S.length()) FloatVector.fromArray(S, x, xo + i).neg().intoArray(out, oo + i);
    }

    private static void absRows(float[] x, int xo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += S.length()) FloatVector.fromArray(S, x, xo + i).abs().intoArray(out, oo + i);
    }

    /** max(v, 0) would turn NaN into 0; the blend keeps NaN and -0 like PyTorch's relu. */
    private static void reluRows(float[] x, int xo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            v.blend(0f, v.compare(VectorOperators.LT, 0f)).intoArray(out, oo + i);
        }
    }

    private static void sqrtRows(float[] x, int xo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += S.length()) FloatVector.fromArray(S, x, xo + i).sqrt().intoArray(out, oo + i);
    }

    private static void expRows(float[] x, int xo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += S.length()) VectorMath.exp(FloatVector.fromArray(S, x, xo + i)).intoArray(out, oo + i);
    }

    private static void tanhRows(float[] x, int xo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += S.length()) VectorMath.tanh(FloatVector.fromArray(S, x, xo + i)).intoArray(out, oo + i);
    }

    /**
     * The exponent's polynomial of Numerical Recipes' erfc fit, erfc(z) = t exp(-z^2 + fit(t))
     * with t = 1/(1 + z/2), Horner with FMAs; erf and gelu share it. Small enough (under C2's
     * inlining size of 325 bytecodes) to inline into both loops.
     */
    private static FloatVector erfcFit(FloatVector t) {
        FloatVector p = t.fma(0.17087277f, -0.82215223f);
        p = t.fma(p, FloatVector.broadcast(S, 1.48851587f));
        p = t.fma(p, FloatVector.broadcast(S, -1.13520398f));
        p = t.fma(p, FloatVector.broadcast(S, 0.27886807f));
        p = t.fma(p, FloatVector.broadcast(S, -0.18628806f));
        p = t.fma(p, FloatVector.broadcast(S, 0.09678418f));
        p = t.fma(p, FloatVector.broadcast(S, 0.37409196f));
        p = t.fma(p, FloatVector.broadcast(S, 1.00002368f));
        return t.fma(p, FloatVector.broadcast(S, -1.26551223f));
    }

    /**
     * erf in float lanes, MathFns.erfFloat's two pieces: the Maclaurin polynomial in v*v below
     * |v| = 0.5 and 1 - erfc from the Chebyshev fit above (erfc <= 0.48 there, so the fit's
     * float rounding stays below an ulp of the result). Float Horner rounding in the polynomial
     * branch reaches 3 ulps from the double twin (measured over 4M points in [-5, 5]; FloatRowsTest allows 4).
     */
    private static void erfRows(float[] x, int xo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            FloatVector z = v.mul(v);
            FloatVector p = z.fma((float) (1.0 / 685440), (float) (-1.0 / 75600));
            p = z.fma(p, FloatVector.broadcast(S, (float) (1.0 / 9360)));
            p = z.fma(p, FloatVector.broadcast(S, (float) (-1.0 / 1320)));
            p = z.fma(p, FloatVector.broadcast(S, (float) (1.0 / 216)));
            p = z.fma(p, FloatVector.broadcast(S, (float) (-1.0 / 42)));
            p = z.fma(p, FloatVector.broadcast(S, (float) (1.0 / 10)));
            p = z.fma(p, FloatVector.broadcast(S, (float) (-1.0 / 3)));
            p = z.fma(p, FloatVector.broadcast(S, 1f));
            FloatVector small = v.mul(1.1283791670955126f).mul(p);
            FloatVector ax = v.abs();
            FloatVector t = FloatVector.broadcast(S, 1f).div(ax.fma(0.5f, 1f));
            FloatVector fit = erfcFit(t);
            FloatVector erfc = t.mul(VectorMath.exp(fit.sub(z)));
            FloatVector large = erfc.neg().add(1f);
            large = large.blend(large.neg(), v.compare(VectorOperators.LT, 0f));
            // NaN fails the compare and keeps the small branch, which propagates it
            small.blend(large, ax.compare(VectorOperators.GE, 0.5f)).intoArray(out, oo + i);
        }
    }

    /**
     * gelu in float lanes: MathFns.geluFloat's erfc fit (Numerical Recipes' Chebyshev form),
     * Horner with FMAs. Double lanes, as before, ran at ~3.8 ms per 2^20 elements against
     * ~0.7 here: half the lanes per vector plus two conversions. The one step where float
     * loses accuracy is the exponent's -z*z (|arg| up to ~100, where an ulp is 8e-6): it is
     * taken as v*v/2 (not from the rounded z), and its rounding error and that of adding the
     * fit are recovered exactly (FMA for the square, TwoSum for the sum) and applied as
     * exp(s + c) = exp(s) * (1 + c), so the exponent costs no accuracy. What remains is float Horner
     * rounding, largest near v = 0 where t*P(t) - 1.2655 cancels: up to ~6 ulps (4e-7 relative)
     * from the scalar twin, bounded in FloatRowsTest.
     */
    private static void geluRows(float[] x, int xo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            FloatVector z = v.abs().mul(0.70710677f);
            FloatVector t = FloatVector.broadcast(S, 1f).div(z.fma(0.5f, 1f));
            FloatVector fit = erfcFit(t);
            // z*z = v*v/2 from v itself: the rounding of z (relative 6e-8) would otherwise be
            // doubled into an absolute error of ~1e-7 * z^2 in the exponent
            FloatVector vv = v.mul(v);
            FloatVector zz = vv.mul(0.5f);
            FloatVector zzErr = v.fma(v, vv.neg()).mul(0.5f); // z*z - zz, exactly (halving is exact)
            FloatVector sum = fit.sub(zz);
            FloatVector bv = sum.sub(fit);
            FloatVector sumErr = fit.sub(sum.sub(bv)).add(zz.neg().sub(bv)); // TwoSum: fit - zz - sum, exactly
            FloatVector c = sumErr.sub(zzErr);
            c = c.blend(0f, c.test(VectorOperators.IS_NAN)); // |v| = inf: inf - inf; erfc is 0 there anyway
            FloatVector erfc = t.mul(VectorMath.exp(sum)).mul(c.add(1f));
            FloatVector pos = v.mul(erfc.fma(-0.5f, 1f));
            FloatVector neg = v.mul(0.5f).mul(erfc);
            neg.blend(pos, v.compare(VectorOperators.GE, 0f)).intoArray(out, oo + i);
        }
    }

    /**
     * g * gelu'(x) = g * (Phi(x) + x phi(x)) in float lanes, Phi from the erfc fit geluRows uses.
     * Every element goes through these lanes, whatever its
     * layout: contiguous runs are read in place, anything else (a broadcast operand, strides, the
     * tail) is gathered into a padded vector first, so an element gets the same bits wherever a
     * row or a fused block starts, as the transcendental unary rows do.
     */
    private static void geluGrad(float[] g, int go, int gs, float[] x, int xo, int xs, float[] out, int oo, int n) {
        int L = S.length(), i = 0;
        if (gs == 1 && xs == 1) {
            i = S.loopBound(n);
            geluGradVectors(g, go, x, xo, out, oo, i);
        }
        if (i == n) return;
        float[] gb = new float[L], xb = new float[L];
        // a broadcast operand read once, before any block is written: out may be its storage
        float g0 = g[go], x0 = x[xo];
        for (; i < n; i += L) {
            int m = Math.min(L, n - i);
            for (int j = 0; j < m; j++) {
                gb[j] = gs == 0 ? g0 : g[go + (i + j) * gs];
                xb[j] = xs == 0 ? x0 : x[xo + (i + j) * xs];
            }
            geluGradVectors(gb, 0, xb, 0, gb, 0, L);
            System.arraycopy(gb, 0, out, oo + i, m);
        }
    }

    /** Elements per pass of {@link #geluGradVectors}: its two loops work through a chunk while it is in L1. */
    private static final int GELU_GRAD_CHUNK = 256;

    /**
     * Whole vectors of g * gelu'(x), a chunk at a time in two loops of one exp each: Phi(x) into
     * a chunk buffer, then x phi(x) and the product with g. One loop with both exps and the
     * erfc fit ran at a third of gelu's speed (too large for C2 to keep every lane function
     * inlined; see unaryVectors). The buffer also lets out alias g or x (fused blocks reuse
     * registers).
     */
    private static void geluGradVectors(float[] g, int go, float[] x, int xo, float[] out, int oo, int n) {
        float[] cdf = new float[Math.min(n, GELU_GRAD_CHUNK)];
        for (int c = 0; c < n; c += GELU_GRAD_CHUNK) {
            int m = Math.min(GELU_GRAD_CHUNK, n - c);
            geluCdfVectors(x, xo + c, cdf, m);
            geluGradFinish(g, go + c, x, xo + c, cdf, out, oo + c, m);
        }
    }

    /** Phi(x) from the erfc fit (as geluRows), over whole vectors. */
    private static void geluCdfVectors(float[] x, int xo, float[] cdf, int n) {
        for (int i = 0; i < n; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            FloatVector halfSquare = v.mul(v).mul(-0.5f); // -x*x/2 = -z*z with z = |x|/sqrt(2)
            FloatVector t = FloatVector.broadcast(S, 1f).div(v.abs().mul(0.70710677f).fma(0.5f, 1f));
            FloatVector erfc = t.mul(VectorMath.exp(erfcFit(t).add(halfSquare)));
            erfc.mul(0.5f).blend(erfc.fma(-0.5f, 1f), v.compare(VectorOperators.GE, 0f)).intoArray(cdf, i);
        }
    }

    /** g * (Phi(x) + x phi(x)) with Phi from {@link #geluCdfVectors}. */
    private static void geluGradFinish(float[] g, int go, float[] x, int xo, float[] cdf, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            FloatVector pdf = VectorMath.exp(v.mul(v).mul(-0.5f)).mul(0.3989422804014327f);
            FloatVector.fromArray(S, g, go + i).mul(v.fma(pdf, FloatVector.fromArray(S, cdf, i))).intoArray(out, oo + i);
        }
    }

    /**
     * 1/(1+e^-x) for x >= 0 and e^x/(1+e^x) below, both from e = e^-|x|: no overflow, and tiny
     * results for very negative x stay (sub)normal instead of flushing to 1/inf = 0.
     */
    private static void sigmoidRows(float[] x, int xo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            FloatVector e = VectorMath.exp(v.abs().neg());
            FloatVector onePlus = e.add(1f);
            FloatVector pos = FloatVector.broadcast(S, 1f).div(onePlus), neg = e.div(onePlus);
            pos.blend(neg, v.compare(VectorOperators.LT, 0f)).intoArray(out, oo + i);
        }
    }

    /**
     * Lane-wise maxima, then across the lanes: Math.max's rule in both (NaN wins), so a NaN
     * anywhere gives NaN. One dependent max per vector instead of per element: the scalar
     * loop's NaN-checking max was most of softmax's time on 128-wide rows.
     */
    @Override
    public float max(float[] x, int off, int n) {
        int L = S.length();
        if (n < L) return SCALAR.max(x, off, n);
        FloatVector acc = FloatVector.fromArray(S, x, off);
        int i = L;
        for (; i + L <= n; i += L) acc = acc.max(FloatVector.fromArray(S, x, off + i));
        return Math.max(acc.reduceLanes(VectorOperators.MAX), SCALAR.max(x, off + i, n - i));
    }

    /**
     * The max, then exp(x - max) in one loop (the tail through a padded vector, as the unary exp
     * rows do), the blocked sum, then the division: four passes over a row in L1, where the
     * general kernel copied the row and made a call per pass.
     */
    @Override
    public void softmax(float[] x, int xo, float[] out, int oo, int n) {
        float max = max(x, xo, n), m = max == Float.NEGATIVE_INFINITY ? 0f : max;
        int L = S.length(), whole = S.loopBound(n);
        expShifted(x, xo, m, out, oo, whole);
        if (whole < n) {
            float[] tail = new float[L];
            System.arraycopy(x, xo + whole, tail, 0, n - whole);
            expShifted(tail, 0, m, tail, 0, L);
            System.arraycopy(tail, 0, out, oo + whole, n - whole);
        }
        float s = (float) sum(out, oo, n);
        int i = 0;
        for (; i < whole; i += L) FloatVector.fromArray(S, out, oo + i).div(s).intoArray(out, oo + i);
        for (; i < n; i++) out[oo + i] /= s;
    }

    private static void expShifted(float[] x, int xo, float m, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += S.length()) VectorMath.exp(FloatVector.fromArray(S, x, xo + i).sub(m)).intoArray(out, oo + i);
    }

    @Override
    public float min(float[] x, int off, int n) {
        int L = S.length();
        if (n < L) return SCALAR.min(x, off, n);
        FloatVector acc = FloatVector.fromArray(S, x, off);
        int i = L;
        for (; i + L <= n; i += L) acc = acc.min(FloatVector.fromArray(S, x, off + i));
        return Math.min(acc.reduceLanes(VectorOperators.MIN), SCALAR.min(x, off + i, n - i));
    }

    @Override
    public double sum(float[] x, int off, int n) {
        int L = S.length();
        double total = 0;
        for (int start = 0; start < n; start += SUM_BLOCK) {
            int end = Math.min(n, start + SUM_BLOCK);
            FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
            int i = start;
            for (; i + 2 * L <= end; i += 2 * L) {
                a0 = a0.add(FloatVector.fromArray(S, x, off + i));
                a1 = a1.add(FloatVector.fromArray(S, x, off + i + L));
            }
            float s = sumLanes(a0.add(a1));
            for (; i < end; i++) s += x[off + i];
            total += s;
        }
        return total;
    }

    @Override
    public String name() { return "Vector API (" + S.vectorBitSize() + "-bit float lanes)"; }
}
