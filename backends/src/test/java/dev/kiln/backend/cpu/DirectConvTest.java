package dev.kiln.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.vector.FloatRows;
import dev.kiln.backend.cpu.vector.ScalarFloatRows;
import dev.kiln.backend.cpu.vector.VectorSupport;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * float32 conv2d with few taps runs as DirectConv: checked against a plain float64 loop over
 * the definition, at LeNet's shapes with batch 64, odd sizes around the vector and 4-channel
 * blocks (1, 3, 5, 17 output channels), padding on either axis, groups and depthwise, a 1x1
 * kernel and a kernel as large as the padded image.
 */
class DirectConvTest {
    /** N, C, H, W, O, kh, kw, ph, pw, groups */
    private static final int[][] CASES = {
        {64, 1, 28, 28, 6, 5, 5, 2, 2, 1},
        {64, 6, 14, 14, 16, 5, 5, 0, 0, 1},
        {3, 3, 7, 9, 5, 3, 2, 1, 0, 1},
        {1, 1, 1, 1, 1, 1, 1, 0, 0, 1},
        {2, 6, 11, 13, 17, 3, 3, 1, 1, 1},
        {5, 6, 10, 6, 4, 3, 3, 2, 1, 2},
        {4, 6, 9, 9, 6, 3, 3, 1, 1, 6},
        {2, 2, 4, 3, 3, 6, 5, 1, 1, 1},
        {1, 16, 33, 31, 7, 3, 3, 1, 1, 1},
        {300, 2, 6, 5, 6, 3, 3, 1, 1, 1},
    };

    private static Strided random(Random r, int... shape) {
        Strided s = Strided.allocate(DType.FLOAT32, shape);
        float[] a = s.storage().f32();
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
        return s;
    }

    /** out[n][o][i][j] = b[o] + sum over the group's channels and taps, in float64. */
    private static double[] reference(Strided x, Strided w, Strided b, int[] c, int ho, int wo) {
        int n = c[0], ch = c[1], h = c[2], wd = c[3], o = c[4], kh = c[5], kw = c[6], ph = c[7], pw = c[8], g = c[9];
        int cg = ch / g, og = o / g;
        float[] xa = x.storage().f32(), wa = w.storage().f32(), ba = b.storage().f32();
        double[] out = new double[n * o * ho * wo];
        for (int s = 0; s < n; s++)
            for (int oc = 0; oc < o; oc++)
                for (int i = 0; i < ho; i++)
                    for (int j = 0; j < wo; j++) {
                        double acc = ba[oc];
                        for (int cc = 0; cc < cg; cc++) {
                            int cin = oc / og * cg + cc;
                            for (int ki = 0; ki < kh; ki++)
                                for (int kj = 0; kj < kw; kj++) {
                                    int y = i + ki - ph, z = j + kj - pw;
                                    if (y < 0 || y >= h || z < 0 || z >= wd) continue;
                                    acc += (double) wa[((oc * cg + cc) * kh + ki) * kw + kj] * xa[((s * ch + cin) * h + y) * wd + z];
                                }
                        }
                        out[((s * o + oc) * ho + i) * wo + j] = acc;
                    }
        return out;
    }

    @Test
    void matchesTheDefinitionAtEveryShape() {
        Random r = new Random(3);
        for (int[] c : CASES) {
            int ho = c[2] + 2 * c[7] - c[5] + 1, wo = c[3] + 2 * c[8] - c[6] + 1;
            assertTrue(DirectConv.applies(DType.FLOAT32, c[9], c[1], new int[] {c[5], c[6]}, new int[] {1, 1}, new int[] {1, 1}));
            Strided x = random(r, c[0], c[1], c[2], c[3]), w = random(r, c[4], c[1] / c[9], c[5], c[6]), b = random(r, c[4]);
            Attrs a = Op.CONV2D.def().checkAttrs(Attrs.of("stride", new int[] {1, 1}, "padding", new int[] {c[7], c[8]}, "groups", c[9]));
            int[] outShape = {c[0], c[4], ho, wo};
            float[] got = CpuKernels.run(Op.CONV2D, new Strided[] {x, w, b}, a, TensorType.of(DType.FLOAT32, outShape)).storage().f32();
            double[] want = reference(x, w, b, c, ho, wo);
            assertEquals(want.length, got.length);
            for (int i = 0; i < want.length; i++) {
                int at = i;
                assertEquals(want[i], got[i], 1e-4 * (1 + Math.abs(want[i])), () -> java.util.Arrays.toString(c) + " element " + at);
            }
        }
    }

    @Test
    void vectorAndScalarRowsGiveTheSameBits() {
        // both add the taps in the same order with one FMA each, so the Vector API path and its
        // scalar fallback agree exactly (a machine without the Vector API trains identically)
        Random r = new Random(5);
        int channels = 3, kh = 3, kw = 4, wp = 11, positions = 7 * wp, no = 6, ldo = 128;
        float[] in = new float[channels * 9 * wp + ldo + 3 * wp + kw];
        for (int i = 0; i < in.length; i++) in[i] = (float) r.nextGaussian();
        float[] w = new float[no * channels * kh * kw], bias = new float[no];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        for (int i = 0; i < no; i++) bias[i] = (float) r.nextGaussian();
        FloatRows vector = VectorSupport.floatRows(), scalar = new ScalarFloatRows();
        float[] a = new float[no * ldo], s = new float[no * ldo];
        vector.convDirect(in, 0, 9 * wp, channels, kh, kw, wp, w, 0, bias, 0, a, 0, ldo, no, positions);
        scalar.convDirect(in, 0, 9 * wp, channels, kh, kw, wp, w, 0, bias, 0, s, 0, ldo, no, positions);
        for (int oc = 0; oc < no; oc++) {
            assertArrayEquals(java.util.Arrays.copyOfRange(s, oc * ldo, oc * ldo + positions), java.util.Arrays.copyOfRange(a, oc * ldo, oc * ldo + positions));
        }
    }

    @Test
    void poolRowsAgreeBetweenVectorAndScalarOnTiesAndNaNs() {
        // values from a few levels (ties everywhere), with NaNs and signed zeros: the same tap's
        // bits from both, at widths around the vector length
        Random r = new Random(9);
        float[] levels = {-1f, 0f, -0f, 2f, Float.NaN, Float.POSITIVE_INFINITY};
        for (int wo : new int[] {1, 5, 14, 15, 16, 17, 33}) {
            int wp = 2 * wo + 3;
            float[] x = new float[2 * wp + 2 * FloatRows.CONV_GRANULE];
            for (int i = 0; i < x.length; i++) x[i] = levels[r.nextInt(levels.length)];
            float[] a = new float[wo + 1], s = new float[wo + 1];
            VectorSupport.floatRows().maxPool2x2Row(x, 0, wp, a, 1, wo);
            new ScalarFloatRows().maxPool2x2Row(x, 0, wp, s, 1, wo);
            for (int j = 0; j <= wo; j++) assertEquals(Float.floatToRawIntBits(s[j]), Float.floatToRawIntBits(a[j]), "wo " + wo + " j " + j);
        }
    }

    /** dW[o][cc][ki][kj] = sum over samples and outputs of g times the input tap, in float64. */
    private static double[] weightGradReference(Strided x, Strided g, int[] c, int ho, int wo) {
        int n = c[0], ch = c[1], h = c[2], wd = c[3], o = c[4], kh = c[5], kw = c[6], ph = c[7], pw = c[8], grp = c[9];
        int cg = ch / grp, og = o / grp;
        float[] xa = x.storage().f32(), ga = g.storage().f32();
        double[] dw = new double[o * cg * kh * kw];
        for (int oc = 0; oc < o; oc++)
            for (int cc = 0; cc < cg; cc++)
                for (int ki = 0; ki < kh; ki++)
                    for (int kj = 0; kj < kw; kj++) {
                        double acc = 0;
                        int cin = oc / og * cg + cc;
                        for (int s = 0; s < n; s++)
                            for (int i = 0; i < ho; i++)
                                for (int j = 0; j < wo; j++) {
                                    int y = i + ki - ph, z = j + kj - pw;
                                    if (y < 0 || y >= h || z < 0 || z >= wd) continue;
                                    acc += (double) ga[((s * o + oc) * ho + i) * wo + j] * xa[((s * ch + cin) * h + y) * wd + z];
                                }
                        dw[((oc * cg + cc) * kh + ki) * kw + kj] = acc;
                    }
        return dw;
    }

    @Test
    void weightGradientMatchesTheDefinitionAtEveryShape() {
        Random r = new Random(4);
        for (int[] c : CASES) {
            int ho = c[2] + 2 * c[7] - c[5] + 1, wo = c[3] + 2 * c[8] - c[6] + 1;
            Strided x = random(r, c[0], c[1], c[2], c[3]), g = random(r, c[0], c[4], ho, wo);
            Attrs a = Op.CONV2D_WEIGHT_GRAD.def().checkAttrs(Attrs.of("kernel_size", new int[] {c[5], c[6]}, "padding", new int[] {c[7], c[8]}, "groups", c[9]));
            int[] outShape = {c[4], c[1] / c[9], c[5], c[6]};
            float[] got = CpuKernels.run(Op.CONV2D_WEIGHT_GRAD, new Strided[] {x, g}, a, TensorType.of(DType.FLOAT32, outShape)).storage().f32();
            double[] want = weightGradReference(x, g, c, ho, wo);
            double scale = Math.sqrt((double) c[0] * ho * wo); // a sum of that many unit-variance products
            for (int i = 0; i < want.length; i++) {
                int at = i;
                assertEquals(want[i], got[i], 2e-5 * (scale + Math.abs(want[i])), () -> java.util.Arrays.toString(c) + " dW element " + at);
            }
        }
    }

    /** conv_transpose2d at stride 1 by its definition, in float64: each input tap scattered through the kernel. */
    private static double[] transposeReference(Strided x, Strided w, Strided b, int[] c, int ho, int wo) {
        int n = c[0], cin = c[1], h = c[2], wd = c[3], cout = c[4], kh = c[5], kw = c[6], ph = c[7], pw = c[8], g = c[9];
        int cing = cin / g, coutg = cout / g;
        float[] xa = x.storage().f32(), wa = w.storage().f32(), ba = b.storage().f32();
        double[] out = new double[n * cout * ho * wo];
        for (int s = 0; s < n; s++)
            for (int co = 0; co < cout; co++) {
                for (int q = 0; q < ho * wo; q++) out[(s * cout + co) * ho * wo + q] = ba[co];
                int grp = co / coutg;
                for (int cc = 0; cc < cing; cc++) {
                    int ci = grp * cing + cc;
                    for (int i = 0; i < h; i++)
                        for (int j = 0; j < wd; j++)
                            for (int ki = 0; ki < kh; ki++)
                                for (int kj = 0; kj < kw; kj++) {
                                    int y = i - ph + ki, z = j - pw + kj;
                                    if (y < 0 || y >= ho || z < 0 || z >= wo) continue;
                                    out[((s * cout + co) * ho + y) * wo + z] += (double) xa[((s * cin + ci) * h + i) * wd + j]
                                            * wa[((ci * coutg + co % coutg) * kh + ki) * kw + kj];
                                }
                }
            }
        return out;
    }

    @Test
    void transposedConvolutionMatchesTheDefinition() {
        // N, Cin, H, W, Cout, kh, kw, ph, pw, groups: LeNet's conv2 input gradient, padding, groups, a 1x1 kernel
        int[][] cases = {{64, 16, 10, 10, 6, 5, 5, 0, 0, 1}, {3, 4, 7, 9, 5, 3, 3, 1, 1, 1}, {2, 6, 5, 6, 4, 3, 2, 2, 1, 2}, {2, 3, 4, 4, 3, 1, 1, 0, 0, 3}};
        Random r = new Random(8);
        for (int[] c : cases) {
            int ho = c[2] - 2 * c[7] + c[5] - 1, wo = c[3] - 2 * c[8] + c[6] - 1;
            Strided x = random(r, c[0], c[1], c[2], c[3]), w = random(r, c[1], c[4] / c[9], c[5], c[6]), b = random(r, c[4]);
            Attrs a = Op.CONV_TRANSPOSE2D.def().checkAttrs(Attrs.of("padding", new int[] {c[7], c[8]}, "groups", c[9]));
            assertTrue(DirectConv.appliesTranspose(DType.FLOAT32, c[9], c[1], new int[] {c[5], c[6]}, a));
            float[] got = CpuKernels.run(Op.CONV_TRANSPOSE2D, new Strided[] {x, w, b}, a, TensorType.of(DType.FLOAT32, c[0], c[4], ho, wo)).storage().f32();
            double[] want = transposeReference(x, w, b, c, ho, wo);
            assertEquals(want.length, got.length);
            for (int i = 0; i < want.length; i++) {
                int at = i;
                assertEquals(want[i], got[i], 1e-4 * (1 + Math.abs(want[i])), () -> java.util.Arrays.toString(c) + " element " + at);
            }
        }
    }

    @Test
    void anInfiniteInputOutsideEveryWindowOfATapLeavesThatTapFinite() {
        // 3x3 input, 2x2 kernel: tap (0,1) never sees column 0, but the direct sums read x[1][0]
        // at a padding column's position (with a zero gradient): 0 * Inf must not make it NaN
        int[] c = {1, 1, 3, 3, 1, 2, 2, 0, 0, 1};
        Strided x = random(new Random(2), 1, 1, 3, 3), g = random(new Random(3), 1, 1, 2, 2);
        x.storage().f32()[3] = Float.POSITIVE_INFINITY;
        Attrs a = Op.CONV2D_WEIGHT_GRAD.def().checkAttrs(Attrs.of("kernel_size", new int[] {2, 2}));
        float[] got = CpuKernels.run(Op.CONV2D_WEIGHT_GRAD, new Strided[] {x, g}, a, TensorType.of(DType.FLOAT32, 1, 1, 2, 2)).storage().f32();
        double[] want = weightGradReference(x, g, c, 2, 2);
        assertTrue(Float.isFinite(got[1]) && Float.isFinite(got[3]), java.util.Arrays.toString(got));
        for (int i = 0; i < 4; i++) assertEquals(want[i], got[i], 1e-5 * (1 + Math.abs(want[i])), "tap " + i);
    }
}
