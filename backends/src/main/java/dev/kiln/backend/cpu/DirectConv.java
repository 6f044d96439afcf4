package dev.kiln.backend.cpu;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.vector.FloatRows;
import dev.kiln.backend.cpu.vector.VectorSupport;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.shape.TensorType;
import java.util.List;

/**
 * float32 conv2d with few taps per output (C/groups * kh * kw up to {@link #MAX_TAPS}), stride 1
 * and no dilation, by direct accumulation: each sample's input planes are copied once into a
 * zero-padded buffer, and each output vector sums its taps from shifted loads of it
 * ({@link FloatRows#convDirect}), computing a plane {@code Ho x Wp} wide (Wp the padded width)
 * whose rows are then cut back to Wo. Nothing is unfolded.
 *
 * <p>Why: im2col writes C*kh*kw column rows for every output position, for LeNet 25 and 150 rows
 * of 10-28 floats per output row, and then runs GEMMs with 6 or 16 output rows, too few to use
 * the GEMM's register tiles (JFR of LeNet inference: a quarter of the time in im2col's copies).
 * Here the arithmetic is the same and the only copies are the input and output planes. With
 * many taps the packed GEMM reuses its operands far better, so larger convolutions keep im2col.
 *
 * <p>Work is split by sample; each output element sums its taps in one fixed order, so results
 * do not depend on the thread count.
 *
 * <p>Compiled plans also run it with an epilogue ({@link #run}): unary activations applied to
 * each sample's output planes while they are in cache, and optionally the 2x2, stride-2 max pool
 * after them, so the full-size activation map is never written (for LeNet at batch 1000, 19 MB
 * per conv written, read and rewritten by the relu, and read again by the pool). The activations
 * are the eager kernels' row functions and the pool keeps max_pool2d's rule, so the bits are
 * those of the ops run one by one.
 */
public final class DirectConv {
    private DirectConv() {}

    private static final FloatRows ROWS = VectorSupport.floatRows();

    /** Taps per output (C/groups * kh * kw) up to which direct accumulation is used. */
    static final int MAX_TAPS = Integer.getInteger("kiln.conv.directMaxTaps", 160);

    static boolean applies(DType dt, int groups, int channels, int[] kernel, int[] stride, int[] dilation) {
        int taps = channels / groups * kernel[0] * kernel[1];
        return dt == DType.FLOAT32 && taps <= MAX_TAPS && stride[0] == 1 && stride[1] == 1 && dilation[0] == 1 && dilation[1] == 1;
    }

    /**
     * Whether conv2d of x and w (the node's input types; the channels and the kernel must be
     * fixed) with these attributes runs here, and so can take an epilogue.
     */
    public static boolean applies(TensorType x, TensorType w, Attrs conv) {
        if (x.rank() != 4 || w.rank() != 4 || !x.dim(1).isConstant() || !w.isStatic()) return false;
        int[] ws = w.concreteShape();
        return applies(x.dtype(), conv.getInt("groups"), (int) x.dim(1).value(), new int[] {ws[2], ws[3]}, conv.getInts("stride"), conv.getInts("dilation"));
    }

    /** Whether max_pool2d with these attributes is the 2x2, stride-2, unpadded window the epilogue pools with. */
    public static boolean poolsInEpilogue(Attrs pool) {
        int[] k = pool.getInts("kernel_size"), s = pool.getInts("stride"), p = pool.getInts("padding"), d = pool.getInts("dilation");
        return k[0] == 2 && k[1] == 2 && s[0] == 2 && s[1] == 2 && p[0] == 0 && p[1] == 0 && d[0] == 1 && d[1] == 1 && !pool.getBool("ceil_mode");
    }

    /**
     * conv2d(in[0], in[1][, in[2]]) with attributes conv (where {@link #applies}), then each
     * activation in order, then, when pool, the 2x2 stride-2 max pool; outT is the last one's type.
     */
    public static Strided run(Strided[] in, Attrs conv, List<FloatRows.Unary> activations, boolean pool, TensorType outT) {
        Strided x = Copy.denseOf(in[0], DType.FLOAT32), w = Copy.denseOf(in[1], DType.FLOAT32);
        Strided b = in.length > 2 ? Copy.denseOf(in[2], DType.FLOAT32) : null;
        return conv2d(x, w, b, conv.getInt("groups"), conv.getInts("padding"), activations, pool, outT);
    }

    /** x [N,C,H,W] and w [O,C/groups,kh,kw] dense float32, b [O] dense or null. */
    static Strided conv2d(Strided x, Strided w, Strided b, int groups, int[] padding, TensorType outT) {
        return conv2d(x, w, b, groups, padding, List.of(), false, outT);
    }

    private static Strided conv2d(Strided x, Strided w, Strided b, int groups, int[] padding, List<FloatRows.Unary> activations, boolean pool,
                                  TensorType outT) {
        int[] xs = x.shape(), ws = w.shape(), os = outT.concreteShape();
        int n = xs[0], c = xs[1], h = xs[2], wd = xs[3], o = os[1], kh = ws[2], kw = ws[3];
        int ho = h + 2 * padding[0] - kh + 1, wo = wd + 2 * padding[1] - kw + 1; // the convolution's own output (stride 1)
        int pho = os[2], pwo = os[3]; // the step's output: the pooled plane when pool
        int cg = c / groups, og = o / groups, ph = padding[0], pw = padding[1];
        // the padded plane: wp wide, tall enough for every tap of every output row
        int wp = wd + 2 * pw, hp = Math.max(h + 2 * ph, ho + kh - 1), planeP = hp * wp;
        int positions = ho * wp, ldo = roundUp(positions, FloatRows.CONV_GRANULE);
        // the last block of positions reads up to ldo - 1 + (kh-1)*wp + kw-1 past a plane's start
        int padLength = (c - 1) * planeP + ldo + (kh - 1) * wp + kw;
        Strided out = Strided.allocate(DType.FLOAT32, os);
        float[] xa = x.storage().f32(), wa = w.storage().f32(), oa = out.storage().f32();
        float[] ba = b == null ? null : b.storage().f32();
        int xo = x.offset(), wOff = w.offset(), bOff = b == null ? 0 : b.offset();
        BatchSplit.run(n, (long) o * positions * cg * kh * kw, (chunk, from, to) -> {
            float[] pad = new float[Math.max(0, padLength)], tmp = new float[og * ldo + FloatRows.CONV_GRANULE]; // the pool may read past the last plane
            for (int s = from; s < to; s++) {
                // only interior cells are written: the border stays zero for every sample
                for (int ch = 0; ch < c; ch++) {
                    for (int r = 0; r < h; r++) System.arraycopy(xa, xo + ((s * c + ch) * h + r) * wd, pad, ch * planeP + (r + ph) * wp + pw, wd);
                }
                for (int g = 0; g < groups; g++) {
                    ROWS.convDirect(pad, g * cg * planeP, planeP, cg, kh, kw, wp, wa, wOff + g * og * cg * kh * kw, ba, bOff + g * og, tmp, 0, ldo, og,
                            positions);
                    // the epilogue over whole rows (the padding columns' values are discarded below)
                    for (FloatRows.Unary act : activations) ROWS.unary(act, tmp, 0, tmp, 0, og * ldo);
                    for (int oc = 0; oc < og; oc++) {
                        int dst = (s * o + g * og + oc) * pho * pwo;
                        if (pool) for (int i = 0; i < pho; i++) ROWS.maxPool2x2Row(tmp, oc * ldo + 2 * i * wp, wp, oa, dst + i * pwo, pwo);
                        else for (int r = 0; r < ho; r++) System.arraycopy(tmp, oc * ldo + r * wp, oa, dst + r * wo, wo);
                    }
                }
            }
        });
        return out;
    }

    /** Taps per output up to which conv_transpose2d runs direct (its own limit: LeNet's conv2 input gradient has 400). */
    static final int MAX_TRANSPOSE_TAPS = Integer.getInteger("kiln.conv.directMaxTransposeTaps", 512);

    /** Whether conv_transpose2d runs here: float32, stride 1, no dilation or output padding, padding below the kernel. */
    static boolean appliesTranspose(DType dt, int groups, int cin, int[] kernel, Attrs a) {
        int[] st = a.getInts("stride"), d = a.getInts("dilation"), op = a.getInts("output_padding"), p = a.getInts("padding");
        return dt == DType.FLOAT32 && cin / groups * kernel[0] * kernel[1] <= MAX_TRANSPOSE_TAPS && st[0] == 1 && st[1] == 1 && d[0] == 1
                && d[1] == 1 && op[0] == 0 && op[1] == 0 && p[0] < kernel[0] && p[1] < kernel[1];
    }

    /**
     * conv_transpose2d at stride 1 (x [N,Cin,H,W], w [Cin,Cout/groups,kh,kw]) is conv2d of x padded
     * by k-1-p with the kernel flipped and its two channel axes swapped: conv2d's input gradient
     * as a direct convolution, without im2col's column buffer and col2im's scalar fold.
     */
    static Strided convTranspose2d(Strided x, Strided w, Strided b, int groups, int[] padding, TensorType outT) {
        int[] ws = w.shape();
        int cin = ws[0], coutg = ws[1], kh = ws[2], kw = ws[3], cing = cin / groups;
        Strided flipped = Strided.allocate(DType.FLOAT32, new int[] {coutg * groups, cing, kh, kw});
        float[] src = w.storage().f32(), dst = flipped.storage().f32();
        int wo = w.offset();
        for (int g = 0; g < groups; g++)
            for (int co = 0; co < coutg; co++)
                for (int ci = 0; ci < cing; ci++)
                    for (int ki = 0; ki < kh; ki++)
                        for (int kj = 0; kj < kw; kj++) {
                            dst[(((g * coutg + co) * cing + ci) * kh + ki) * kw + kj] = src[wo + (((g * cing + ci) * coutg + co) * kh + kh - 1 - ki) * kw + kw - 1 - kj];
                        }
        return conv2d(x, flipped, b, groups, new int[] {kh - 1 - padding[0], kw - 1 - padding[1]}, outT);
    }

    /** Samples whose padded planes a chunk holds at once in {@link #weightGrad} (bounds its buffers for any batch). */
    private static final int WEIGHT_GRAD_SAMPLES = 32;

    /**
     * conv2d_weight_grad where {@link #applies} (x [N,C,H,W], the output gradient g [N,O,Ho,Wo],
     * both dense float32): the sum over samples of g correlated with the padded input, by
     * FloatRows.convWeightGrad. Samples are split into chunks whose bounds depend only on N;
     * within a chunk, blocks of up to {@value #WEIGHT_GRAD_SAMPLES} samples get their input planes
     * padded and their gradient widened to the padded width (zeros in the padding columns), and
     * the chunks' partial sums are added in chunk order: the same bits on any thread count.
     * The sums also run over positions that are not outputs, where g is zero: an Inf or NaN input
     * cell read there makes the result NaN, and callers check it ({@link #allFinite}).
     */
    static Strided weightGrad(Strided x, Strided g, int groups, int[] padding, TensorType outT) {
        int[] xs = x.shape(), gs = g.shape(), os = outT.concreteShape();
        int n = xs[0], c = xs[1], h = xs[2], wd = xs[3], o = gs[1], ho = gs[2], wo = gs[3], kh = os[2], kw = os[3];
        int cg = c / groups, og = o / groups, ph = padding[0], pw = padding[1], taps = cg * kh * kw;
        int wp = wd + 2 * pw, hp = Math.max(h + 2 * ph, ho + kh - 1), planeP = hp * wp;
        int ldg = roundUp(ho * wp, FloatRows.VECTOR_GRANULE); // not CONV_GRANULE: small planes (10x14) would waste a third
        // a sample's region: its planes, then room for the last position block's shifted reads
        int inStride = Math.max(c * planeP, (c - 1) * planeP + ldg + (kh - 1) * wp + kw);
        float[] xa = x.storage().f32(), ga = g.storage().f32();
        int xo = x.offset(), go = g.offset();
        float[][] partial = new float[BatchSplit.chunks(n)][];
        BatchSplit.run(n, (long) o * taps * ldg, (chunk, from, to) -> {
            float[] acc = new float[o * taps];
            int block = Math.max(1, Math.min(WEIGHT_GRAD_SAMPLES, to - from));
            float[] pad = new float[block * inStride], gp = new float[block * o * ldg];
            for (int s0 = from; s0 < to; s0 += block) {
                int m = Math.min(block, to - s0);
                for (int i = 0; i < m; i++) {
                    int s = s0 + i;
                    for (int ch = 0; ch < c; ch++) {
                        for (int r = 0; r < h; r++) {
                            System.arraycopy(xa, xo + ((s * c + ch) * h + r) * wd, pad, i * inStride + ch * planeP + (r + ph) * wp + pw, wd);
                        }
                    }
                    for (int oc = 0; oc < o; oc++) {
                        for (int r = 0; r < ho; r++) System.arraycopy(ga, go + ((s * o + oc) * ho + r) * wo, gp, (i * o + oc) * ldg + r * wp, wo);
                    }
                }
                for (int grp = 0; grp < groups; grp++) {
                    ROWS.convWeightGrad(pad, grp * cg * planeP, inStride, planeP, cg, kh, kw, wp, gp, grp * og * ldg, o * ldg, ldg, og, m, ldg, acc,
                            grp * og * taps);
                }
            }
            partial[chunk] = acc;
        });
        Strided out = Strided.allocate(DType.FLOAT32, os);
        float[] oa = out.storage().f32();
        for (float[] p : partial) for (int i = 0; i < oa.length; i++) oa[i] += p[i];
        return out;
    }

    /** Whether every element of a dense float32 result is finite (a weight gradient: small). */
    static boolean allFinite(Strided r) {
        float[] a = r.storage().f32();
        for (int i = r.offset(), end = r.offset() + r.numel(); i < end; i++) if (!Float.isFinite(a[i])) return false;
        return true;
    }

    private static int roundUp(int v, int m) { return (v + m - 1) / m * m; }
}
