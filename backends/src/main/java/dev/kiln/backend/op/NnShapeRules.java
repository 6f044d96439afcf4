package dev.kiln.backend.op;

import dev.kiln.backend.DType;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.ShapeException;
import dev.kiln.backend.shape.TensorType;
import java.util.Arrays;

/**
 * Type rules of the convolution, pooling and random primitives. The batch dim may be symbolic;
 * channels and spatial dims must be fixed, because output sizes are floor/ceil quotients that
 * a monomial dim cannot express.
 */
public final class NnShapeRules {
    private NnShapeRules() {}

    /** Output length of a convolution or pooling window sweep along one axis; ceil rounds up as PyTorch's pools do. */
    public static int windowCount(int in, int kernel, int stride, int pad, int dilation, boolean ceil) {
        int span = in + 2 * pad - dilation * (kernel - 1) - 1;
        if (span < 0) return 0;
        int n = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
        // a ceil-mode window must start inside the input or its left padding
        if (ceil && (n - 1) * stride >= in + pad) n--;
        return n;
    }

    /** Output length of a transposed convolution along one axis. */
    public static int transposedLength(int in, int kernel, int stride, int pad, int dilation, int outputPadding) {
        return (in - 1) * stride - 2 * pad + dilation * (kernel - 1) + outputPadding + 1;
    }

    static int[] pair(String op, Attrs a, String name) {
        int[] v = a.getInts(name);
        if (v.length != 2) throw new ShapeException(op + ": attribute '" + name + "' needs 2 entries (height, width), got " + Arrays.toString(v));
        return v;
    }

    private static int fixed(String op, TensorType t, int d, String what) {
        Dim x = t.dim(d);
        if (!x.isConstant()) throw new ShapeException(op + ": " + what + " (dim " + d + " of " + t + ") must be a fixed size, not symbolic");
        return Math.toIntExact(x.value());
    }

    private static void requireImage(String op, String role, TensorType t) {
        if (t.rank() != 4) throw new ShapeException(op + ": " + role + " must be 4-D, got " + t);
        ShapeRules.requireFloat(op, t);
    }

    private static void sameDtype(String op, TensorType a, TensorType b) {
        if (a.dtype() != b.dtype()) throw new ShapeException(op + ": expected " + b + " to have the dtype of " + a);
    }

    private static void checkBias(String op, TensorType[] in, int channels) {
        if (in.length < 3) return;
        TensorType b = in[2];
        if (b.rank() != 1 || !b.dim(0).equals(Dim.of(channels))) throw new ShapeException(op + ": bias must be [" + channels + "], got " + b);
        sameDtype(op, in[0], b);
    }

    private static int groupedChannels(String op, String what, int channels, int groups) {
        if (channels % groups != 0) throw new ShapeException(op + ": " + what + " " + channels + " is not divisible by groups=" + groups);
        return channels / groups;
    }

    public static TensorType conv2d(String op, TensorType[] in, Attrs a) {
        TensorType x = in[0], w = in[1];
        requireImage(op, "input", x);
        requireImage(op, "weight", w);
        sameDtype(op, x, w);
        int groups = a.getInt("groups");
        int c = fixed(op, x, 1, "input channels"), o = fixed(op, w, 0, "output channels");
        int kh = fixed(op, w, 2, "kernel height"), kw = fixed(op, w, 3, "kernel width");
        if (fixed(op, w, 1, "weight channels") * groups != c) {
            throw new ShapeException(op + ": weight " + w + " expects " + w.dim(1) + "*groups=" + w.dim(1) + "*" + groups
                    + " input channels, but the input " + x + " has " + c);
        }
        groupedChannels(op, "output channels", o, groups);
        checkBias(op, in, o);
        int[] s = pair(op, a, "stride"), p = pair(op, a, "padding"), d = pair(op, a, "dilation");
        int h = fixed(op, x, 2, "height"), wd = fixed(op, x, 3, "width");
        int ho = windowCount(h, kh, s[0], p[0], d[0], false), wo = windowCount(wd, kw, s[1], p[1], d[1], false);
        if (ho <= 0 || wo <= 0) {
            throw new ShapeException(op + ": input " + x + " padded by " + Arrays.toString(p) + " is smaller than the dilated kernel "
                    + ((kh - 1) * d[0] + 1) + "x" + ((kw - 1) * d[1] + 1));
        }
        return new TensorType(x.dtype(), new Dim[] {x.dim(0), Dim.of(o), Dim.of(ho), Dim.of(wo)});
    }

    public static TensorType convTranspose2d(String op, TensorType[] in, Attrs a) {
        TensorType x = in[0], w = in[1];
        requireImage(op, "input", x);
        requireImage(op, "weight", w);
        sameDtype(op, x, w);
        int groups = a.getInt("groups");
        int cin = fixed(op, x, 1, "input channels");
        if (fixed(op, w, 0, "weight input channels") != cin) {
            throw new ShapeException(op + ": weight " + w + " must have dim 0 equal to the input channels " + cin + " of " + x);
        }
        groupedChannels(op, "input channels", cin, groups);
        int cout = fixed(op, w, 1, "weight output channels") * groups;
        checkBias(op, in, cout);
        int[] s = pair(op, a, "stride"), p = pair(op, a, "padding"), d = pair(op, a, "dilation"), op2 = pair(op, a, "output_padding");
        for (int i = 0; i < 2; i++) {
            if (op2[i] >= Math.max(s[i], d[i])) {
                throw new ShapeException(op + ": output_padding " + Arrays.toString(op2) + " must be smaller than stride " + Arrays.toString(s)
                        + " or dilation " + Arrays.toString(d));
            }
        }
        int ho = transposedLength(fixed(op, x, 2, "height"), fixed(op, w, 2, "kernel height"), s[0], p[0], d[0], op2[0]);
        int wo = transposedLength(fixed(op, x, 3, "width"), fixed(op, w, 3, "kernel width"), s[1], p[1], d[1], op2[1]);
        if (ho <= 0 || wo <= 0) throw new ShapeException(op + ": padding " + Arrays.toString(p) + " leaves no output for input " + x);
        return new TensorType(x.dtype(), new Dim[] {x.dim(0), Dim.of(cout), Dim.of(ho), Dim.of(wo)});
    }

    public static TensorType conv2dWeightGrad(String op, TensorType[] in, Attrs a) {
        TensorType x = in[0], g = in[1];
        requireImage(op, "input", x);
        requireImage(op, "output gradient", g);
        sameDtype(op, x, g);
        if (!x.dim(0).equals(g.dim(0))) throw new ShapeException(op + ": input " + x + " and output gradient " + g + " differ in batch size");
        int groups = a.getInt("groups");
        int cg = groupedChannels(op, "input channels", fixed(op, x, 1, "input channels"), groups);
        int o = fixed(op, g, 1, "output channels");
        groupedChannels(op, "output channels", o, groups);
        int[] k = pair(op, a, "kernel_size"), s = pair(op, a, "stride"), p = pair(op, a, "padding"), d = pair(op, a, "dilation");
        int ho = windowCount(fixed(op, x, 2, "height"), k[0], s[0], p[0], d[0], false);
        int wo = windowCount(fixed(op, x, 3, "width"), k[1], s[1], p[1], d[1], false);
        if (fixed(op, g, 2, "gradient height") != ho || fixed(op, g, 3, "gradient width") != wo) {
            throw new ShapeException(op + ": output gradient " + g + " must be " + ho + "x" + wo + " spatially for input " + x);
        }
        return new TensorType(x.dtype(), new Dim[] {Dim.of(o), Dim.of(cg), Dim.of(k[0]), Dim.of(k[1])});
    }

    public static TensorType maxPool2dIndices(String op, TensorType[] in, Attrs a) {
        TensorType x = in[0];
        requireImage(op, "input", x);
        int[] k = pair(op, a, "kernel_size"), s = pair(op, a, "stride"), p = pair(op, a, "padding"), d = pair(op, a, "dilation");
        for (int i = 0; i < 2; i++) {
            if (p[i] > k[i] / 2) throw new ShapeException(op + ": padding " + Arrays.toString(p) + " must be at most half the kernel size " + Arrays.toString(k));
        }
        boolean ceil = a.getBool("ceil_mode");
        int ho = windowCount(fixed(op, x, 2, "height"), k[0], s[0], p[0], d[0], ceil);
        int wo = windowCount(fixed(op, x, 3, "width"), k[1], s[1], p[1], d[1], ceil);
        if (ho <= 0 || wo <= 0) throw new ShapeException(op + ": input " + x + " is smaller than the pooling window " + Arrays.toString(k));
        checkWindowsTouchInput(op, "height", fixed(op, x, 2, "height"), ho, k[0], s[0], p[0], d[0]);
        checkWindowsTouchInput(op, "width", fixed(op, x, 3, "width"), wo, k[1], s[1], p[1], d[1]);
        return new TensorType(DType.INT64, new Dim[] {x.dim(0), x.dim(1), Dim.of(ho), Dim.of(wo)});
    }

    /** max_pool2d: the windows of max_pool2d_indices, holding values of the input's dtype. */
    public static TensorType maxPool2d(String op, TensorType[] in, Attrs a) {
        return new TensorType(in[0].dtype(), maxPool2dIndices(op, in, a).shape());
    }

    /**
     * A dilated window can fall between the input's cells and the padding, touching no input at
     * all; PyTorch gives -inf there. Kiln refuses such a geometry, since the maximum of nothing
     * has no index for the gather that carries max pooling's gradient.
     */
    private static void checkWindowsTouchInput(String op, String axis, int in, int out, int k, int s, int p, int d) {
        for (int o = 0; o < out; o++) {
            boolean touches = false;
            for (int j = 0; j < k && !touches; j++) {
                int at = o * s - p + j * d;
                touches = at >= 0 && at < in;
            }
            if (!touches) {
                throw new ShapeException(op + ": pooling window " + o + " along the " + axis + " (size " + in + ") lies entirely in the padding (kernel "
                        + k + ", stride " + s + ", padding " + p + ", dilation " + d + "); use less padding or dilation");
            }
        }
    }

    public static TensorType randLike(String op, TensorType[] in, Attrs a) {
        if (a.getInts("seed").length != 2 || a.getInts("offset").length != 2) {
            throw new ShapeException(op + ": seed and offset must each be [high, low] 32-bit words, got seed "
                    + Arrays.toString(a.getInts("seed")) + " and offset " + Arrays.toString(a.getInts("offset")));
        }
        return new TensorType(ShapeRules.toFloat(in[0].dtype()), in[0].shape());
    }

    /** Splits a 64-bit value into the [high, low] words rand_like's attributes hold. */
    public static int[] words(long v) { return new int[] {(int) (v >>> 32), (int) v}; }

    /** Joins [high, low] words back into the 64-bit value. */
    public static long joinWords(int[] w) { return ((long) w[0] << 32) | (w[1] & 0xFFFFFFFFL); }
}
