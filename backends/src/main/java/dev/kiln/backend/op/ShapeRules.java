package dev.kiln.backend.op;

import dev.kiln.backend.DType;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.ShapeException;
import dev.kiln.backend.shape.Shapes;
import dev.kiln.backend.shape.TensorType;
import java.util.Arrays;

/** The type rules of the primitive ops, written over symbolic dims. */
public final class ShapeRules {
    private ShapeRules() {}

    static final Dim ONE = Dim.of(1);

    // ---- dtype helpers ----------------------------------------------------------------

    /**
     * PyTorch's promotion between operands: dimensioned tensors decide, unless a 0-d operand
     * is of a higher category (bool < integer < float), in which case the 0-d operands decide.
     */
    public static DType promote(TensorType... in) {
        DType dimensioned = null, zeroDim = null;
        for (TensorType t : in) {
            if (t.rank() == 0) zeroDim = zeroDim == null ? t.dtype() : DType.promote(zeroDim, t.dtype());
            else dimensioned = dimensioned == null ? t.dtype() : DType.promote(dimensioned, t.dtype());
        }
        if (dimensioned == null) return zeroDim;
        if (zeroDim == null) return dimensioned;
        return category(zeroDim) > category(dimensioned) ? zeroDim : dimensioned;
    }

    /** The two-operand case of {@link #promote(TensorType...)} for kernels that hold no TensorType. */
    public static DType promote(DType a, boolean aZeroDim, DType b, boolean bZeroDim) {
        if (aZeroDim == bZeroDim) return DType.promote(a, b);
        DType zeroDim = aZeroDim ? a : b, dimensioned = aZeroDim ? b : a;
        return category(zeroDim) > category(dimensioned) ? zeroDim : dimensioned;
    }

    private static int category(DType t) { return t.isFloatingPoint() ? 2 : t.isIntegral() ? 1 : 0; }

    static DType toFloat(DType t) { return t.isFloatingPoint() ? t : DType.FLOAT32; }

    static void requireFloat(String op, TensorType t) {
        if (!t.dtype().isFloatingPoint()) throw new ShapeException(op + ": expected a floating-point tensor, got " + t);
    }

    // ---- elementwise ------------------------------------------------------------------

    /** Unary op whose result is floating point (int and bool inputs become f32). */
    public static TensorType unaryFloat(String op, TensorType[] in, Attrs a) {
        return new TensorType(toFloat(in[0].dtype()), in[0].shape());
    }

    /** Unary op that keeps the dtype and refuses bool (neg, abs, sign, floor, ...). */
    public static TensorType unaryNumeric(String op, TensorType[] in, Attrs a) {
        if (in[0].dtype() == DType.BOOL) throw new ShapeException(op + ": not defined for bool tensors, got " + in[0]);
        return in[0];
    }

    public static TensorType unaryBool(String op, TensorType[] in, Attrs a) {
        return new TensorType(DType.BOOL, in[0].shape());
    }

    public static TensorType cast(String op, TensorType[] in, Attrs a) {
        return new TensorType(a.getDType("dtype"), in[0].shape());
    }

    public static TensorType same(String op, TensorType[] in, Attrs a) { return in[0]; }

    public static TensorType fullLike(String op, TensorType[] in, Attrs a) {
        DType t = a.getOptionalDType("dtype");
        return new TensorType(t == null ? in[0].dtype() : t, in[0].shape());
    }

    /** Broadcasting binary op with promoted result dtype. */
    public static TensorType binaryArith(String op, TensorType[] in, Attrs a) {
        DType t = promote(in);
        if (t == DType.BOOL && op.equals("sub")) throw new ShapeException("sub: subtraction of bool tensors is not supported; use logical_xor");
        return new TensorType(t, Shapes.broadcast(op, in[0].shape(), in[1].shape()));
    }

    /** True division: integer inputs give f32. */
    public static TensorType binaryDiv(String op, TensorType[] in, Attrs a) {
        return new TensorType(toFloat(promote(in)), Shapes.broadcast(op, in[0].shape(), in[1].shape()));
    }

    public static TensorType binaryBool(String op, TensorType[] in, Attrs a) {
        promote(in);
        return new TensorType(DType.BOOL, Shapes.broadcast(op, in[0].shape(), in[1].shape()));
    }

    public static TensorType where(String op, TensorType[] in, Attrs a) {
        if (in[0].dtype() != DType.BOOL) throw new ShapeException("where: condition must be a bool tensor, got " + in[0]);
        Dim[] s = Shapes.broadcast(op, Shapes.broadcast(op, in[0].shape(), in[1].shape()), in[2].shape());
        return new TensorType(promote(in[1], in[2]), s);
    }

    // ---- reductions -------------------------------------------------------------------

    /** Normalized, sorted, de-duplicated reduction dims; empty attr = all dims. */
    public static int[] reductionDims(String op, int rank, int[] dims) {
        if (dims.length == 0) {
            int[] all = new int[rank];
            for (int i = 0; i < rank; i++) all[i] = i;
            return all;
        }
        boolean[] seen = new boolean[Math.max(rank, 1)];
        int[] out = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            int d = Shapes.normDim(op, dims[i], rank);
            if (seen[d]) throw new ShapeException(op + ": dim " + d + " appears more than once in " + Arrays.toString(dims));
            seen[d] = true;
            out[i] = d;
        }
        Arrays.sort(out);
        if (rank == 0) return new int[0];
        return out;
    }

    static Dim[] reducedShape(String op, Dim[] shape, int[] dims, boolean keepdim) {
        boolean[] red = new boolean[shape.length];
        for (int d : dims) red[d] = true;
        int n = 0;
        for (int i = 0; i < shape.length; i++) if (!red[i] || keepdim) n++;
        Dim[] out = new Dim[n];
        int j = 0;
        for (int i = 0; i < shape.length; i++) {
            if (!red[i]) out[j++] = shape[i];
            else if (keepdim) out[j++] = ONE;
        }
        return out;
    }

    private static TensorType reduce(String op, TensorType in, Attrs a, DType out) {
        int[] dims = reductionDims(op, in.rank(), a.getInts("dims"));
        return new TensorType(out, reducedShape(op, in.shape(), dims, a.getBool("keepdim")));
    }

    /** sum/prod: bool and int64 accumulate in int64. */
    public static TensorType reduceSum(String op, TensorType[] in, Attrs a) {
        return reduce(op, in[0], a, in[0].dtype().isFloatingPoint() ? in[0].dtype() : DType.INT64);
    }

    public static TensorType reduceSame(String op, TensorType[] in, Attrs a) {
        if (in[0].rank() > 0) {
            int[] dims = reductionDims(op, in[0].rank(), a.getInts("dims"));
            Dim[] s = in[0].shape();
            for (int d : dims) {
                if (s[d].isConstant() && s[d].value() == 0) {
                    throw new ShapeException(op + ": cannot reduce over dim " + d + " of size 0 of " + in[0] + " (the operation has no identity)");
                }
            }
        }
        return reduce(op, in[0], a, in[0].dtype());
    }

    public static TensorType reduceBool(String op, TensorType[] in, Attrs a) { return reduce(op, in[0], a, DType.BOOL); }

    /** argmax/argmin: one dim, or all elements when dim is absent. */
    public static TensorType argReduce(String op, TensorType[] in, Attrs a) {
        Integer dim = a.getOptionalInt("dim");
        boolean keep = a.getBool("keepdim");
        if (dim == null) {
            for (Dim d : in[0].shape()) {
                if (d.isConstant() && d.value() == 0) throw new ShapeException(op + ": cannot take " + op + " of an empty tensor " + in[0]);
            }
            if (!keep) return new TensorType(DType.INT64, new Dim[0]);
            Dim[] s = new Dim[in[0].rank()];
            Arrays.fill(s, ONE);
            return new TensorType(DType.INT64, s);
        }
        int d = Shapes.normDim(op, dim, in[0].rank());
        if (in[0].rank() > 0 && in[0].dim(d).isConstant() && in[0].dim(d).value() == 0) {
            throw new ShapeException(op + ": cannot reduce over dim " + d + " of size 0 of " + in[0]);
        }
        if (in[0].rank() == 0) return new TensorType(DType.INT64, new Dim[0]);
        return new TensorType(DType.INT64, reducedShape(op, in[0].shape(), new int[] {d}, keep));
    }

    public static TensorType cumsum(String op, TensorType[] in, Attrs a) {
        Shapes.normDim(op, a.getInt("dim"), in[0].rank());
        return new TensorType(in[0].dtype().isFloatingPoint() ? in[0].dtype() : DType.INT64, in[0].shape());
    }

    public static TensorType softmax(String op, TensorType[] in, Attrs a) {
        requireFloat(op, in[0]);
        Shapes.normDim(op, a.getInt("dim"), in[0].rank());
        return in[0];
    }

    /** softmax_backward(g, y): the gradient and softmax's output, of one float dtype and one shape (no broadcasting). */
    public static TensorType softmaxBackward(String op, TensorType[] in, Attrs a) {
        requireFloat(op, in[0]);
        requireFloat(op, in[1]);
        if (in[0].dtype() != in[1].dtype()) {
            throw new ShapeException(op + ": the gradient and the output need one dtype, got " + in[0] + " and " + in[1]);
        }
        if (!Arrays.equals(in[0].shape(), in[1].shape())) {
            throw new ShapeException(op + ": the gradient " + in[0] + " and the output " + in[1] + " need the same shape");
        }
        Shapes.normDim(op, a.getInt("dim"), in[1].rank());
        return in[1];
    }

    // ---- linear algebra ---------------------------------------------------------------

    public static TensorType matmul(String op, TensorType[] in, Attrs a) {
        TensorType x = in[0], y = in[1];
        if (x.rank() == 0 || y.rank() == 0) {
            throw new ShapeException(op + ": both arguments need at least 1 dimension, got " + x + " and " + y);
        }
        if (x.dtype() != y.dtype()) throw new ShapeException(op + ": expected both operands to have the same dtype, got " + x + " and " + y);
        if (x.dtype() == DType.BOOL) throw new ShapeException(op + ": not defined for bool tensors");
        Dim[] xs = x.shape(), ys = y.shape();
        Dim k1 = xs[xs.length - 1];
        Dim k2 = ys.length == 1 ? ys[0] : ys[ys.length - 2];
        if (!k1.equals(k2)) {
            throw new ShapeException(op + ": shapes " + Shapes.toString(xs) + " and " + Shapes.toString(ys)
                    + " are not aligned (" + k1 + " != " + k2 + ")");
        }
        Dim[] xb = xs.length > 2 ? Arrays.copyOf(xs, xs.length - 2) : new Dim[0];
        Dim[] yb = ys.length > 2 ? Arrays.copyOf(ys, ys.length - 2) : new Dim[0];
        Dim[] batch = Shapes.broadcast(op, xb, yb);
        int n = batch.length + (xs.length >= 2 ? 1 : 0) + (ys.length >= 2 ? 1 : 0);
        Dim[] out = Arrays.copyOf(batch, n);
        int j = batch.length;
        if (xs.length >= 2) out[j++] = xs[xs.length - 2];
        if (ys.length >= 2) out[j] = ys[ys.length - 1];
        return new TensorType(x.dtype(), out);
    }

    /** addmm(bias, a, b) = bias + a @ b, a and b 2-D, bias broadcastable to the product. */
    public static TensorType addmm(String op, TensorType[] in, Attrs a) {
        if (in[1].rank() != 2 || in[2].rank() != 2) {
            throw new ShapeException(op + ": expected 2-D matrices, got " + in[1] + " and " + in[2]);
        }
        TensorType mm = matmul(op, new TensorType[] {in[1], in[2]}, a);
        if (in[0].dtype() != mm.dtype()) throw new ShapeException(op + ": bias " + in[0] + " must have dtype " + mm.dtype());
        Dim[] s = Shapes.broadcast(op, in[0].shape(), mm.shape());
        if (!Arrays.equals(s, mm.shape())) {
            throw new ShapeException(op + ": bias " + in[0] + " cannot be broadcast to the product's shape " + Shapes.toString(mm.shape()));
        }
        return mm;
    }

    // ---- views ------------------------------------------------------------------------

    /** A target shape as users wrote it: [-1, 5, 2, 4], [B, T*H, -1]. */
    private static String sizes(Dim[] target) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < target.length; i++) sb.append(i > 0 ? ", " : "").append(target[i] == null ? "-1" : target[i].toString());
        return sb.append(']').toString();
    }

    public static TensorType reshape(String op, TensorType[] in, Attrs a) {
        Dim[] target = a.getShape("shape");
        Dim[] src = in[0].shape();
        Dim total = Shapes.product(src, 0, src.length);
        Dim[] out = new Dim[target.length];
        int infer = -1;
        Dim known = ONE;
        for (int i = 0; i < target.length; i++) {
            if (target[i] == null) {
                if (infer >= 0) throw new ShapeException(op + ": only one dimension can be -1, got " + sizes(target));
                infer = i;
            } else {
                out[i] = target[i];
                known = known.times(out[i]);
            }
        }
        if (infer >= 0) {
            Dim q = known.equals(Dim.of(0)) ? null : total.divExact(known);
            if (q == null) {
                throw new ShapeException(op + ": shape " + sizes(target) + " is invalid for input of shape "
                        + Shapes.toString(src) + " (" + total + " elements)");
            }
            out[infer] = q;
        } else if (!known.equals(total)) {
            throw new ShapeException(op + ": shape " + sizes(target) + " is invalid for input of shape "
                    + Shapes.toString(src) + " (" + total + " elements)");
        }
        return new TensorType(in[0].dtype(), out);
    }

    public static TensorType permute(String op, TensorType[] in, Attrs a) {
        int[] dims = a.getInts("dims");
        int r = in[0].rank();
        if (dims.length != r) throw new ShapeException(op + ": dims " + Arrays.toString(dims) + " must list all " + r + " dims of " + in[0]);
        boolean[] seen = new boolean[r];
        Dim[] s = in[0].shape(), out = new Dim[r];
        for (int i = 0; i < r; i++) {
            int d = Shapes.normDim(op, dims[i], r);
            if (seen[d]) throw new ShapeException(op + ": dims " + Arrays.toString(dims) + " repeat dim " + d);
            seen[d] = true;
            out[i] = s[d];
        }
        return new TensorType(in[0].dtype(), out);
    }

    public static TensorType expand(String op, TensorType[] in, Attrs a) {
        Dim[] target = a.getShape("shape");
        Dim[] s = in[0].shape();
        if (target.length < s.length) {
            throw new ShapeException(op + ": target shape " + sizes(target) + " has fewer dims than " + in[0]);
        }
        Dim[] out = new Dim[target.length];
        int off = target.length - s.length;
        for (int i = 0; i < target.length; i++) {
            Dim src = i >= off ? s[i - off] : null;
            if (target[i] == null) {
                if (src == null) throw new ShapeException(op + ": -1 is not allowed for the new leading dim " + i + " in " + sizes(target));
                out[i] = src;
            } else {
                Dim t = target[i];
                if (src != null && !src.equals(t) && !src.equals(ONE)) {
                    throw new ShapeException(op + ": cannot expand " + in[0] + " to " + sizes(target)
                            + " (dim " + i + ": " + src + " is not 1)");
                }
                out[i] = t;
            }
        }
        return new TensorType(in[0].dtype(), out);
    }

    public static TensorType expandAs(String op, TensorType[] in, Attrs a) {
        Dim[] target = in[1].shape();
        Dim[] b = Shapes.broadcast(op, in[0].shape(), target);
        if (!Arrays.equals(b, target) || in[0].rank() > in[1].rank()) {
            throw new ShapeException(op + ": " + in[0] + " cannot be expanded to the shape of " + in[1]);
        }
        return new TensorType(in[0].dtype(), target);
    }

    /** Python slice bounds clamped to [0, size]; returns {start, length}. */
    public static int[] sliceBounds(int size, int start, int end, int step) {
        int s = start < 0 ? Math.max(start + size, 0) : Math.min(start, size);
        int e = end < 0 ? Math.max(end + size, 0) : Math.min(end, size);
        int len = e > s ? (e - s + step - 1) / step : 0;
        return new int[] {s, len};
    }

    public static TensorType slice(String op, TensorType[] in, Attrs a) {
        int d = Shapes.normDim(op, a.getInt("dim"), in[0].rank());
        int start = a.getInt("start"), end = a.getInt("end"), step = a.getInt("step");
        if (step <= 0) throw new ShapeException(op + ": step must be positive, got " + step);
        Dim[] s = in[0].shape();
        if (!s[d].isConstant()) {
            if (start == 0 && end == Integer.MAX_VALUE && step == 1) return in[0];
            if (start >= 0 && end >= 0 && end <= start) {
                // empty whatever the size (a gradient's zeros derived with narrow(d, 0, 0))
                Dim[] out = s.clone();
                out[d] = Dim.of(0);
                return new TensorType(in[0].dtype(), out);
            }
            throw new ShapeException(op + ": cannot slice symbolic dim " + s[d] + " of " + in[0] + " with fixed bounds");
        }
        int[] b = sliceBounds((int) s[d].value(), start, end, step);
        s[d] = Dim.of(b[1]);
        return new TensorType(in[0].dtype(), s);
    }

    public static TensorType select(String op, TensorType[] in, Attrs a) {
        if (in[0].rank() == 0) throw new ShapeException(op + ": cannot select from a 0-d tensor");
        int d = Shapes.normDim(op, a.getInt("dim"), in[0].rank());
        Dim[] s = in[0].shape();
        int idx = a.getInt("index");
        if (s[d].isConstant()) {
            long n = s[d].value();
            if (idx < -n || idx >= n) throw new ShapeException(op + ": index " + idx + " is out of range for dim " + d + " of size " + n);
        }
        Dim[] out = new Dim[s.length - 1];
        for (int i = 0, j = 0; i < s.length; i++) if (i != d) out[j++] = s[i];
        return new TensorType(in[0].dtype(), out);
    }

    public static TensorType squeeze(String op, TensorType[] in, Attrs a) {
        int[] dims = a.getInts("dims");
        Dim[] s = in[0].shape();
        boolean[] drop = new boolean[s.length];
        if (dims.length == 0) {
            for (int i = 0; i < s.length; i++) drop[i] = s[i].equals(ONE);
        } else {
            for (int d : dims) {
                int n = Shapes.normDim(op, d, s.length);
                if (s.length > 0) drop[n] = s[n].equals(ONE);
            }
        }
        int k = 0;
        for (boolean b : drop) if (!b) k++;
        Dim[] out = new Dim[k];
        for (int i = 0, j = 0; i < s.length; i++) if (!drop[i]) out[j++] = s[i];
        return new TensorType(in[0].dtype(), out);
    }

    public static TensorType unsqueeze(String op, TensorType[] in, Attrs a) {
        Dim[] s = in[0].shape();
        int d = Shapes.normDim(op, a.getInt("dim"), s.length + 1);
        Dim[] out = new Dim[s.length + 1];
        for (int i = 0, j = 0; i < out.length; i++) out[i] = i == d ? ONE : s[j++];
        return new TensorType(in[0].dtype(), out);
    }

    public static TensorType flatten(String op, TensorType[] in, Attrs a) {
        Dim[] s = in[0].shape();
        if (s.length == 0) return new TensorType(in[0].dtype(), new Dim[] {ONE});
        int st = Shapes.normDim(op, a.getInt("start"), s.length), en = Shapes.normDim(op, a.getInt("end"), s.length);
        if (st > en) throw new ShapeException(op + ": start dim " + st + " is after end dim " + en);
        Dim[] out = new Dim[s.length - (en - st)];
        int j = 0;
        for (int i = 0; i < st; i++) out[j++] = s[i];
        out[j++] = Shapes.product(s, st, en + 1);
        for (int i = en + 1; i < s.length; i++) out[j++] = s[i];
        return new TensorType(in[0].dtype(), out);
    }

    /** dim split into sizes; one -1 is the exact (symbolic) quotient of dim by the others. */
    public static TensorType unflatten(String op, TensorType[] in, Attrs a) {
        Dim[] s = in[0].shape();
        if (s.length == 0) throw new ShapeException(op + ": a 0-d tensor has no dim to split");
        int d = Shapes.normDim(op, a.getInt("dim"), s.length);
        int[] sizes = a.getInts("sizes");
        if (sizes.length == 0) throw new ShapeException(op + ": sizes must not be empty");
        long known = 1;
        int infer = -1;
        for (int i = 0; i < sizes.length; i++) {
            if (sizes[i] == -1) {
                if (infer >= 0) throw new ShapeException(op + ": only one size may be -1, got " + java.util.Arrays.toString(sizes));
                infer = i;
            } else if (sizes[i] < 0) {
                throw new ShapeException(op + ": sizes must be positive or -1, got " + java.util.Arrays.toString(sizes));
            } else {
                known = Math.multiplyExact(known, sizes[i]);
            }
        }
        Dim[] parts = new Dim[sizes.length];
        for (int i = 0; i < sizes.length; i++) parts[i] = i == infer ? null : Dim.of(sizes[i]);
        if (infer >= 0) {
            Dim q = known == 0 ? null : s[d].divExact(Dim.of(known));
            if (q == null) {
                throw new ShapeException(op + ": sizes " + java.util.Arrays.toString(sizes) + " do not divide dim " + d + " (" + s[d] + ") of " + in[0]);
            }
            parts[infer] = q;
        } else if (!Dim.of(known).equals(s[d])) {
            throw new ShapeException(op + ": sizes " + java.util.Arrays.toString(sizes) + " multiply to " + known + ", not to dim " + d + " ("
                    + s[d] + ") of " + in[0]);
        }
        Dim[] out = new Dim[s.length - 1 + sizes.length];
        System.arraycopy(s, 0, out, 0, d);
        System.arraycopy(parts, 0, out, d, parts.length);
        System.arraycopy(s, d + 1, out, d + parts.length, s.length - d - 1);
        return new TensorType(in[0].dtype(), out);
    }

    // ---- shape and index ops ------------------------------------------------------------

    public static TensorType cat(String op, TensorType[] in, Attrs a) {
        TensorType first = in[0];
        int r = first.rank();
        if (r == 0) throw new ShapeException(op + ": zero-dimensional tensors cannot be concatenated");
        int d = Shapes.normDim(op, a.getInt("dim"), r);
        Dim[] out = first.shape();
        DType t = first.dtype();
        for (int i = 1; i < in.length; i++) {
            Dim[] s = in[i].shape();
            if (s.length != r) throw new ShapeException(op + ": tensor " + i + " " + in[i] + " has rank " + s.length + ", expected " + r + " like " + first);
            for (int k = 0; k < r; k++) {
                if (k == d) continue;
                if (!s[k].equals(out[k])) {
                    throw new ShapeException(op + ": sizes must match except in dim " + d + ": tensor 0 " + first + " vs tensor " + i + " " + in[i]);
                }
            }
            Dim sum = out[d].plus(s[d]);
            if (sum == null) throw new ShapeException(op + ": cannot add symbolic sizes " + out[d] + " and " + s[d]);
            out[d] = sum;
            t = DType.promote(t, in[i].dtype());
        }
        return new TensorType(t, out);
    }

    public static TensorType pad(String op, TensorType[] in, Attrs a) {
        int[] pads = a.getInts("pads");
        Dim[] s = in[0].shape();
        if (pads.length % 2 != 0 || pads.length / 2 > s.length) {
            throw new ShapeException(op + ": pads " + Arrays.toString(pads) + " must have an even length of at most 2*rank (" + 2 * s.length + ")");
        }
        String mode = a.getString("mode");
        for (int i = 0; i < pads.length / 2; i++) {
            int d = s.length - 1 - i;
            int lo = pads[2 * i], hi = pads[2 * i + 1];
            if (!s[d].isConstant()) {
                if (lo == 0 && hi == 0) continue;
                throw new ShapeException(op + ": cannot pad symbolic dim " + s[d]);
            }
            long n = s[d].value();
            if (!mode.equals("constant") && (lo < 0 || hi < 0)) throw new ShapeException(op + ": negative padding is only allowed in constant mode");
            if (mode.equals("reflect") && (lo >= n || hi >= n)) {
                throw new ShapeException(op + ": reflect padding (" + lo + ", " + hi + ") must be smaller than the dim size " + n + " of " + in[0]);
            }
            if (mode.equals("replicate") && n == 0 && (lo > 0 || hi > 0)) throw new ShapeException(op + ": cannot replicate-pad an empty dim");
            long m = n + lo + hi;
            if (m < 0) throw new ShapeException(op + ": padding " + Arrays.toString(pads) + " makes dim " + d + " negative");
            s[d] = Dim.of(m);
        }
        return new TensorType(in[0].dtype(), s);
    }

    static void requireIndex(String op, TensorType t) {
        if (t.dtype() != DType.INT64) throw new ShapeException(op + ": index must be an i64 tensor, got " + t);
    }

    public static TensorType indexSelect(String op, TensorType[] in, Attrs a) {
        requireIndex(op, in[1]);
        if (in[1].rank() > 1) throw new ShapeException(op + ": index must be 0-d or 1-d, got " + in[1]);
        Dim[] s = in[0].shape();
        int d = Shapes.normDim(op, a.getInt("dim"), s.length);
        if (s.length == 0) return in[0];
        s[d] = in[1].rank() == 0 ? ONE : in[1].dim(0);
        return new TensorType(in[0].dtype(), s);
    }

    public static TensorType gather(String op, TensorType[] in, Attrs a) {
        requireIndex(op, in[1]);
        int r = in[0].rank();
        Shapes.normDim(op, a.getInt("dim"), r);
        if (in[1].rank() != r) throw new ShapeException(op + ": index " + in[1] + " must have the same rank as the input " + in[0]);
        return new TensorType(in[0].dtype(), in[1].shape());
    }

    public static TensorType scatterAdd(String op, TensorType[] in, Attrs a) {
        requireIndex(op, in[1]);
        int r = in[0].rank();
        Shapes.normDim(op, a.getInt("dim"), r);
        if (in[1].rank() != r || in[2].rank() != r) {
            throw new ShapeException(op + ": self " + in[0] + ", index " + in[1] + " and src " + in[2] + " must have the same rank");
        }
        if (in[2].dtype() != in[0].dtype()) throw new ShapeException(op + ": src " + in[2] + " must have the dtype of self " + in[0]);
        return in[0];
    }

    public static TensorType triangle(String op, TensorType[] in, Attrs a) {
        if (in[0].rank() < 2) throw new ShapeException(op + ": expected a tensor with at least 2 dims, got " + in[0]);
        return in[0];
    }

    public static TensorType flip(String op, TensorType[] in, Attrs a) {
        reductionDims(op, in[0].rank(), a.getInts("dims"));
        return in[0];
    }

    public static TensorType repeat(String op, TensorType[] in, Attrs a) {
        int[] reps = a.getInts("repeats");
        Dim[] s = in[0].shape();
        if (reps.length < s.length) {
            throw new ShapeException(op + ": repeats " + Arrays.toString(reps) + " must have at least as many entries as the tensor has dims (" + s.length + ")");
        }
        Dim[] out = new Dim[reps.length];
        int off = reps.length - s.length;
        for (int i = 0; i < reps.length; i++) {
            if (reps[i] < 0) throw new ShapeException(op + ": negative repeat " + reps[i]);
            Dim src = i >= off ? s[i - off] : ONE;
            out[i] = src.times(Dim.of(reps[i]));
        }
        return new TensorType(in[0].dtype(), out);
    }

    public static TensorType argsort(String op, TensorType[] in, Attrs a) {
        Shapes.normDim(op, a.getInt("dim"), in[0].rank());
        return new TensorType(DType.INT64, in[0].shape());
    }

    public static TensorType topkIndices(String op, TensorType[] in, Attrs a) {
        Dim[] s = in[0].shape();
        int d = Shapes.normDim(op, a.getInt("dim"), s.length);
        int k = a.getInt("k");
        if (s.length == 0) {
            if (k > 1) throw new ShapeException(op + ": k " + k + " is out of range for a 0-d tensor");
            return new TensorType(DType.INT64, s);
        }
        if (s[d].isConstant() && (k < 0 || k > s[d].value())) {
            throw new ShapeException(op + ": k " + k + " is out of range for dim " + d + " of size " + s[d] + " in " + in[0]);
        }
        s[d] = Dim.of(k);
        return new TensorType(DType.INT64, s);
    }

    public static TensorType size(String op, TensorType[] in, Attrs a) {
        reductionDims(op, in[0].rank(), a.getInts("dims"));
        return new TensorType(DType.INT64, new Dim[0]);
    }

    public static TensorType oneHot(String op, TensorType[] in, Attrs a) {
        requireIndex(op, in[0]);
        Dim[] s = Arrays.copyOf(in[0].shape(), in[0].rank() + 1);
        s[s.length - 1] = Dim.of(a.getInt("num_classes"));
        return new TensorType(DType.INT64, s);
    }
}
