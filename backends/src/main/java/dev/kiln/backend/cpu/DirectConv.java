package dev.kiln.backend.cpu;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.vector.FloatRows;
import dev.kiln.backend.cpu.vector.VectorSupport;
import dev.kiln.backend.shape.TensorType;

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
 */
final class DirectConv {
    private DirectConv() {}

    private static final FloatRows ROWS = VectorSupport.floatRows();

    /** Taps per output (C/groups * kh * kw) up to which direct accumulation is used. */
    static final int MAX_TAPS = Integer.getInteger("kiln.conv.directMaxTaps", 160);

    static boolean applies(DType dt, int groups, int channels, int[] kernel, int[] stride, int[] dilation) {
        int taps = channels / groups * kernel[0] * kernel[1];
        return dt == DType.FLOAT32 && taps <= MAX_TAPS && stride[0] == 1 && stride[1] == 1 && dilation[0] == 1 && dilation[1] == 1;
    }

    /** x [N,C,H,W] and w [O,C/groups,kh,kw] dense float32, b [O] dense or null. */
    static Strided conv2d(Strided x, Strided w, Strided b, int groups, int[] padding, TensorType outT) {
        int[] xs = x.shape(), ws = w.shape(), os = outT.concreteShape();
        int n = xs[0], c = xs[1], h = xs[2], wd = xs[3], o = os[1], ho = os[2], wo = os[3], kh = ws[2], kw = ws[3];
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
            float[] pad = new float[Math.max(0, padLength)], tmp = new float[og * ldo];
            for (int s = from; s < to; s++) {
                // only interior cells are written: the border stays zero for every sample
                for (int ch = 0; ch < c; ch++) {
                    for (int r = 0; r < h; r++) System.arraycopy(xa, xo + ((s * c + ch) * h + r) * wd, pad, ch * planeP + (r + ph) * wp + pw, wd);
                }
                for (int g = 0; g < groups; g++) {
                    ROWS.convDirect(pad, g * cg * planeP, planeP, cg, kh, kw, wp, wa, wOff + g * og * cg * kh * kw, ba, bOff + g * og, tmp, 0, ldo, og,
                            positions);
                    for (int oc = 0; oc < og; oc++) {
                        int dst = (s * o + g * og + oc) * ho * wo;
                        for (int r = 0; r < ho; r++) System.arraycopy(tmp, oc * ldo + r * wp, oa, dst + r * wo, wo);
                    }
                }
            }
        });
        return out;
    }

    private static int roundUp(int v, int m) { return (v + m - 1) / m * m; }
}
