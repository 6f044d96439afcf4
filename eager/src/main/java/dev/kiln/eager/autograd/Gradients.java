package dev.kiln.eager.autograd;

import dev.kiln.backend.DType;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.op.ShapeRules;
import dev.kiln.backend.shape.Shapes;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.NnPrimitives;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The gradient rules of all differentiable primitives, in one table, written with Tensor ops
 * (so backward is itself differentiable and traceable). Broadcast gradients are summed back
 * to each input's shape and dtype by {@link #reduceTo}.
 */
public final class Gradients {
    private Gradients() {}

    private static final double TWO_OVER_SQRT_PI = 1.1283791670955126;
    private static final double INV_SQRT_2PI = 0.3989422804014327;
    private static final double SQRT_2_OVER_PI = 0.7978845608028654;

    private static final Map<Op, GradientRule> RULES;

    static {
        EnumMap<Op, GradientRule> r = new EnumMap<>(Op.class);
        // ---- unary ----
        r.put(Op.NEG, (c, g) -> one(g.neg()));
        r.put(Op.ABS, (c, g) -> one(g.mul(c.input(0).sign())));
        r.put(Op.SIGN, (c, g) -> one(Tensor.zerosLike(g)));
        r.put(Op.EXP, (c, g) -> one(g.mul(c.output())));
        r.put(Op.LOG, (c, g) -> one(g.div(c.input(0))));
        r.put(Op.LOG1P, (c, g) -> one(g.div(c.input(0).add(1.0))));
        r.put(Op.EXPM1, (c, g) -> one(g.mul(c.output().add(1.0))));
        r.put(Op.SQRT, (c, g) -> one(g.div(c.output().mul(2.0))));
        r.put(Op.RSQRT, (c, g) -> one(g.mul(c.output().pow(3.0)).mul(-0.5)));
        r.put(Op.RECIPROCAL, (c, g) -> one(g.mul(c.output().square()).neg()));
        r.put(Op.SIN, (c, g) -> one(g.mul(c.input(0).cos())));
        r.put(Op.COS, (c, g) -> one(g.mul(c.input(0).sin()).neg()));
        r.put(Op.TANH, (c, g) -> one(g.mul(c.output().square().rsub(1.0))));
        r.put(Op.SIGMOID, (c, g) -> {
            Tensor y = c.output();
            return one(g.mul(y).mul(y.rsub(1.0)));
        });
        // as PyTorch's threshold_backward: only outputs <= 0 block the gradient, so NaN passes it
        // a 0-d zero broadcasts in where: no full-size zeros tensor to allocate and fill
        r.put(Op.RELU, (c, g) -> one(Tensor.where(c.output().le(0.0), Tensor.scalar(0.0, g.dtype()), g)));
        r.put(Op.GELU, Gradients::gelu);
        r.put(Op.SILU, (c, g) -> {
            Tensor x = c.input(0), s = x.sigmoid();
            return one(g.mul(s).mul(x.mul(s.rsub(1.0)).add(1.0)));
        });
        r.put(Op.ERF, (c, g) -> {
            Tensor x = c.input(0);
            return one(g.mul(x.square().neg().exp()).mul(TWO_OVER_SQRT_PI));
        });
        r.put(Op.FLOOR, (c, g) -> one(Tensor.zerosLike(g)));
        r.put(Op.CEIL, (c, g) -> one(Tensor.zerosLike(g)));
        r.put(Op.ROUND, (c, g) -> one(Tensor.zerosLike(g)));
        r.put(Op.CLAMP, (c, g) -> {
            Tensor x = c.input(0);
            Double lo = c.attrs().getOptionalFloat("min"), hi = c.attrs().getOptionalFloat("max");
            Tensor mask = null;
            if (lo != null) mask = x.ge(lo);
            if (hi != null) mask = mask == null ? x.le(hi) : mask.logicalAnd(x.le(hi));
            return one(mask == null ? g : Tensor.where(mask, g, Tensor.zerosLike(g)));
        });
        r.put(Op.CAST, (c, g) -> one(g.to(c.inputDType(0))));
        r.put(Op.CLONE, (c, g) -> one(g));

        // ---- binary ----
        // these read an input's data only where a gradient needs it (shapes come from the record),
        // so y.add_(1), y.mul_(2), y.div_(2) on an unsaved non-leaf rebase its history, as in PyTorch
        r.put(Op.ADD, (c, g) -> two(reduceTo(g, c, 0), reduceTo(g, c, 1)));
        r.put(Op.SUB, (c, g) -> two(reduceTo(g, c, 0), c.needsGrad(1) ? reduceTo(g.neg(), c, 1) : null));
        r.put(Op.MUL, (c, g) -> two(
                c.needsGrad(0) ? reduceTo(g.mul(c.input(1)), c, 0) : null,
                c.needsGrad(1) ? reduceTo(g.mul(c.input(0)), c, 1) : null));
        r.put(Op.DIV, (c, g) -> {
            Tensor b = c.input(1);
            return two(c.needsGrad(0) ? reduceTo(g.div(b), c, 0) : null,
                    c.needsGrad(1) ? reduceTo(g.mul(c.input(0)).div(b.square()).neg(), c, 1) : null);
        });
        r.put(Op.POW, Gradients::pow);
        r.put(Op.GELU_BACKWARD, Gradients::geluBackward);
        r.put(Op.MAXIMUM, (c, g) -> minMax(c, g, true));
        r.put(Op.MINIMUM, (c, g) -> minMax(c, g, false));
        r.put(Op.WHERE, (c, g) -> {
            Tensor cond = c.input(0), zero = Tensor.scalar(0.0, g.dtype());
            return new Tensor[] {null,
                    c.needsGrad(1) ? reduceTo(Tensor.where(cond, g, zero), c.input(1)) : null,
                    c.needsGrad(2) ? reduceTo(Tensor.where(cond, zero, g), c.input(2)) : null};
        });

        // ---- reductions ----
        r.put(Op.SUM, (c, g) -> one(expandBack(c, g)));
        r.put(Op.PROD, Gradients::prod);
        r.put(Op.AMAX, Gradients::extremum);
        r.put(Op.AMIN, Gradients::extremum);
        r.put(Op.CUMSUM, (c, g) -> {
            int d = c.attrs().getInt("dim");
            if (c.input(0).dim() == 0) return one(g);
            return one(g.flip(d).cumsum(d).flip(d));
        });
        r.put(Op.SOFTMAX, (c, g) -> {
            int d = c.attrs().getInt("dim");
            Tensor y = c.output();
            if (y.dim() == 0) return one(Tensor.zerosLike(g));
            // one softmax_backward op (a row pass) where the CPU kernels run; the CUDA backend has
            // no softmax_backward kernel, so on a device the same formula in four ops
            if (y.device().isCpu() && g.device().isCpu() && g.dtype() == y.dtype()) return one(NnPrimitives.softmaxBackward(g, y, d));
            return one(y.mul(g.sub(g.mul(y).sum(new int[] {d}, true))));
        });
        r.put(Op.SOFTMAX_BACKWARD, Gradients::softmaxBackward);
        r.put(Op.LOG_SOFTMAX, (c, g) -> {
            int d = c.attrs().getInt("dim");
            Tensor y = c.output();
            if (y.dim() == 0) return one(Tensor.zerosLike(g));
            return one(g.sub(y.exp().mul(g.sum(new int[] {d}, true))));
        });

        // ---- linear algebra ----
        r.put(Op.MATMUL, Gradients::matmul);
        r.put(Op.ADDMM, (c, g) -> {
            Tensor a = c.input(1), b = c.input(2);
            return new Tensor[] {c.needsGrad(0) ? reduceTo(g, c.input(0)) : null,
                    c.needsGrad(1) ? g.matmul(b.t()) : null,
                    c.needsGrad(2) ? weightGrad(a, g, b) : null};
        });

        // ---- views ----
        // to the input's shape as symbolic sizes: a traced backward keeps every dynamic dim
        GradientRule reshapeBack = (c, g) -> one(g.reshapeAs(c.inputForShape(0)));
        r.put(Op.RESHAPE, reshapeBack);
        r.put(Op.FLATTEN, reshapeBack);
        r.put(Op.UNFLATTEN, (c, g) -> {
            int d = Shapes.normDim("unflatten", c.attrs().getInt("dim"), c.inputShape(0).length);
            // flatten the split dims back: no sizes, so a symbolic dim stays symbolic in a traced backward
            return one(g.flatten(d, d + c.attrs().getInts("sizes").length - 1));
        });
        r.put(Op.SQUEEZE, reshapeBack);
        r.put(Op.UNSQUEEZE, reshapeBack);
        r.put(Op.PERMUTE, (c, g) -> {
            int[] p = c.attrs().getInts("dims");
            int[] inv = new int[p.length];
            for (int i = 0; i < p.length; i++) inv[Shapes.normDim("permute", p[i], p.length)] = i;
            return one(g.permute(inv));
        });
        r.put(Op.EXPAND, (c, g) -> one(g.sumToShape(c.inputShape(0))));
        r.put(Op.EXPAND_AS, (c, g) -> two(g.sumToShape(c.inputShape(0)), null));
        // the engine holds step-1 slices' gradients and joins them (SlicePieces); this places one alone
        r.put(Op.SLICE, (c, g) -> one(SlicePieces.Piece.of(c, g).placed()));
        r.put(Op.SELECT, (c, g) -> {
            int[] xs = c.inputShape(0);
            int d = Shapes.normDim("select", c.attrs().getInt("dim"), xs.length);
            int idx = c.attrs().getInt("index");
            if (idx < 0) idx += xs[d];
            return one(placeAlong(g.unsqueeze(d), xs, d, idx, 1));
        });

        // ---- shape and index ----
        r.put(Op.CAT, (c, g) -> {
            int n = c.inputCount();
            int d = Shapes.normDim("cat", c.attrs().getInt("dim"), g.dim());
            Tensor[] out = new Tensor[n];
            int pos = 0;
            for (int i = 0; i < n; i++) {
                int len = c.inputShape(i)[d];
                if (c.needsGrad(i)) out[i] = g.slice(d, pos, pos + len, 1).to(c.inputDType(i));
                pos += len;
            }
            return out;
        });
        r.put(Op.PAD, Gradients::pad);
        r.put(Op.INDEX_SELECT, (c, g) -> {
            int[] xs = c.inputShape(0);
            if (xs.length == 0) return two(g.reshape(), null);
            int d = Shapes.normDim("index_select", c.attrs().getInt("dim"), xs.length);
            Tensor idx = c.input(1).reshape(-1);
            int[] view = new int[g.dim()];
            java.util.Arrays.fill(view, 1);
            view[d] = -1; // the index length, inferred: it may be a symbolic size in a traced backward
            Tensor full = idx.reshape(view).expandAs(g);
            return two(zerosAlong(g, d, xs[d]).scatterAdd(d, full, g), null);
        });
        r.put(Op.GATHER, (c, g) -> {
            Tensor x = c.input(0);
            int d = x.dim() == 0 ? 0 : Shapes.normDim("gather", c.attrs().getInt("dim"), x.dim());
            // gather and scatter_add both wrap negative indices, so the index needs no normalizing pass
            return two(Tensor.zerosLike(x).scatterAdd(d, c.input(1), g), null);
        });
        r.put(Op.SCATTER_ADD, (c, g) -> {
            Tensor self = c.input(0), idx = c.input(1), src = c.input(2);
            int d = self.dim() == 0 ? 0 : Shapes.normDim("scatter_add", c.attrs().getInt("dim"), self.dim());
            Tensor gs = null;
            if (c.needsGrad(2)) {
                gs = g.gather(d, idx);
                int[] ss = src.data().shape(), is = idx.data().shape(); // equal symbolic dims give 0 pads; others fail the pad's type rule
                int[] pads = new int[2 * ss.length];
                boolean any = false;
                for (int i = 0; i < ss.length; i++) {
                    pads[2 * (ss.length - 1 - i) + 1] = ss[i] - is[i];
                    any |= ss[i] != is[i];
                }
                if (any) gs = gs.pad(pads);
            }
            return new Tensor[] {c.needsGrad(0) ? g : null, null, gs};
        });
        r.put(Op.TRIL, (c, g) -> one(g.tril(c.attrs().getInt("diagonal"))));
        r.put(Op.TRIU, (c, g) -> one(g.triu(c.attrs().getInt("diagonal"))));
        r.put(Op.FLIP, (c, g) -> one(g.flip(c.attrs().getInts("dims"))));
        r.put(Op.REPEAT, (c, g) -> {
            int[] reps = c.attrs().getInts("repeats");
            int[] xs = c.inputShape(0);
            int off = reps.length - xs.length;
            int[] split = new int[2 * reps.length];
            int[] sumDims = new int[reps.length];
            for (int i = 0; i < reps.length; i++) {
                split[2 * i] = reps[i];
                split[2 * i + 1] = i >= off ? xs[i - off] : 1;
                sumDims[i] = 2 * i;
            }
            return one(g.reshape(split).sum(sumDims, false).reshape(xs));
        });
        NnGradients.register(r);
        RULES = Collections.unmodifiableMap(r);
    }

    /** The rule for op, or null when it has none. */
    public static GradientRule rule(Op op) { return RULES.get(op); }

    public static boolean has(Op op) { return RULES.containsKey(op); }

    private static Tensor[] one(Tensor g) { return new Tensor[] {g}; }

    private static Tensor[] two(Tensor a, Tensor b) { return new Tensor[] {a, b}; }

    /**
     * a^T @ g, the gradient of the right operand b of a @ b. When b is a transposed view of a
     * row-major matrix (x @ W.t() in a linear layer), compute (g^T @ a)^T instead: the same
     * product, laid out so that the gradient reaching W is contiguous and W's grad needs no
     * transposing copy.
     */
    private static Tensor weightGrad(Tensor a, Tensor g, Tensor b) {
        int[] st = b.strides();
        int[] bs = b.data().shape(); // a layout test: the sizes reach no op
        boolean transposedRowMajor = b.dim() == 2 && st[0] == 1 && st[1] == bs[0] && bs[1] > 1;
        return transposedRowMajor ? g.t().matmul(a).t() : a.t().matmul(g);
    }

    /** Sums a broadcast gradient back to {@code input}'s shape and casts it to its dtype. */
    static Tensor reduceTo(Tensor g, Tensor input) {
        Tensor r = g.sumToShape(input.data().shape());
        return input.dtype().isFloatingPoint() ? r.to(input.dtype()) : r;
    }

    /** {@link #reduceTo(Tensor, Tensor)} for input i, from its recorded shape and dtype. */
    static Tensor reduceTo(Tensor g, GradContext c, int i) {
        Tensor r = g.sumToShape(c.inputShape(i));
        return c.inputDType(i).isFloatingPoint() ? r.to(c.inputDType(i)) : r;
    }

    /** Gradient of a reduction over dims (keepdim or not) broadcast back to the input. */
    private static Tensor expandBack(GradContext c, Tensor g) {
        // shape only: sum saves nothing, so it survives in-place writes and a second backward
        return keepdimShape(c, g).expandAs(c.inputForShape(0)).contiguous();
    }

    private static Tensor keepdimShape(GradContext c, Tensor g) {
        int[] s = c.inputShape(0);
        if (c.attrs().getBool("keepdim") || s.length == 0) return g;
        int[] dims = ShapeRules.reductionDims("reduce", s.length, c.attrs().getInts("dims")).clone();
        java.util.Arrays.sort(dims);
        // the reduced dims put back as size 1, in increasing order (no sizes: symbolic dims stay so)
        Tensor r = g;
        for (int d : dims) r = r.unsqueeze(d);
        return r;
    }

    private static Tensor[] gelu(GradContext c, Tensor g) {
        Tensor x = c.input(0);
        if (c.attrs().getString("approximate").equals("tanh")) {
            Tensor inner = x.add(x.pow(3.0).mul(0.044715)).mul(SQRT_2_OVER_PI);
            Tensor t = inner.tanh();
            Tensor dInner = x.square().mul(3 * 0.044715).add(1.0).mul(SQRT_2_OVER_PI);
            Tensor d = t.add(1.0).mul(0.5).add(x.mul(0.5).mul(t.square().rsub(1.0)).mul(dInner));
            return one(g.mul(d));
        }
        return one(g.geluBackward(x));
    }

    /**
     * out = y * (g - s) with s = sum(g * y) along dim. For the output gradient u: g's gradient
     * is y * (u - sum(u * y)), softmax_backward(u, y) itself; y's is u * (g - s) - g * sum(u * y).
     * Both differentiable again (gradgradcheck).
     */
    private static Tensor[] softmaxBackward(GradContext c, Tensor u) {
        int d = c.attrs().getInt("dim");
        Tensor g = c.input(0), y = c.input(1);
        if (u.dtype() != y.dtype()) u = u.to(y.dtype()); // a gradient of another dtype (backward(gradient)), as PyTorch casts it
        UnaryOperator<Tensor> rowSum = t -> t.dim() == 0 ? t : t.sum(new int[] {d}, true); // a 0-d tensor is one row of one
        Tensor gg = c.needsGrad(0) ? NnPrimitives.softmaxBackward(u, y, d) : null;
        Tensor gy = c.needsGrad(1) ? u.mul(g.sub(rowSum.apply(g.mul(y)))).sub(g.mul(rowSum.apply(u.mul(y)))) : null;
        return two(gg, gy);
    }

    /**
     * out = g * gelu'(x): d/dg is gelu'(x), so g's gradient is gelu_backward itself; d/dx is
     * g * gelu''(x) = g * phi(x) * (2 - x^2). Both differentiable again (gradgradcheck).
     */
    private static Tensor[] geluBackward(GradContext c, Tensor gy) {
        Tensor g = c.input(0), x = c.input(1);
        Tensor gg = c.needsGrad(0) ? reduceTo(gy.geluBackward(x), c, 0) : null;
        Tensor gx = null;
        if (c.needsGrad(1)) {
            Tensor pdf = x.square().mul(-0.5).exp().mul(INV_SQRT_2PI);
            gx = reduceTo(gy.mul(g).mul(pdf.mul(x.square().rsub(2.0))), c, 1);
        }
        return two(gg, gx);
    }

    private static Tensor[] pow(GradContext c, Tensor g) {
        Tensor a = c.input(0), b = c.input(1);
        Tensor ga = null, gb = null;
        if (c.needsGrad(0)) {
            Tensor d = g.mul(b).mul(a.pow(b.sub(1L)));
            ga = reduceTo(Tensor.where(b.eq(0.0), Tensor.zerosLike(d), d), a);
        }
        if (c.needsGrad(1)) {
            Tensor d = g.mul(c.output()).mul(a.log());
            Tensor zeroCase = a.eq(0.0).logicalAnd(b.ge(0.0));
            gb = reduceTo(Tensor.where(zeroCase, Tensor.zerosLike(d), d), b);
        }
        return two(ga, gb);
    }

    /**
     * Ties split the gradient evenly between the two operands, as PyTorch does; only the
     * strictly losing operand gets 0, so where a NaN is involved both get the full gradient.
     */
    private static Tensor[] minMax(GradContext c, Tensor g, boolean max) {
        Tensor a = c.input(0), b = c.input(1);
        Tensor shared = Tensor.where(a.eq(b), g.mul(0.5), g);
        Tensor zero = Tensor.zerosLike(shared);
        Tensor ga = c.needsGrad(0) ? reduceTo(Tensor.where(max ? a.lt(b) : a.gt(b), zero, shared), a) : null;
        Tensor gb = c.needsGrad(1) ? reduceTo(Tensor.where(max ? a.gt(b) : a.lt(b), zero, shared), b) : null;
        return two(ga, gb);
    }

    /** amax/amin: the gradient is shared evenly among the elements equal to the extremum. */
    private static Tensor[] extremum(GradContext c, Tensor g) {
        Tensor x = c.input(0);
        Tensor out = keepdimShape(c, c.output());
        Tensor gk = keepdimShape(c, g);
        int[] dims = ShapeRules.reductionDims("reduce", x.dim(), c.attrs().getInts("dims"));
        Tensor mask = x.eq(out).to(g.dtype());
        Tensor count = mask.sum(dims, true);
        return one(gk.div(count).mul(mask));
    }

    /** Handles zeros exactly: one zero gets the product of the others, several give 0. */
    private static Tensor[] prod(GradContext c, Tensor g) {
        Tensor x = c.input(0);
        int[] dims = ShapeRules.reductionDims("reduce", x.dim(), c.attrs().getInts("dims"));
        Tensor gk = keepdimShape(c, g);
        Tensor out = keepdimShape(c, c.output());
        Tensor isZero = x.eq(0.0);
        Tensor safe = Tensor.where(isZero, Tensor.onesLike(x), x);
        Tensor prodOthers = safe.prod(dims, true);
        Tensor zeros = isZero.to(DType.INT64).sum(dims, true);
        Tensor atZero = Tensor.where(zeros.eq(1.0), gk.mul(prodOthers), Tensor.zerosLike(gk)).expandAs(x);
        Tensor elsewhere = gk.mul(out).div(safe);
        return one(Tensor.where(isZero, atZero, elsewhere));
    }

    private static Tensor[] matmul(GradContext c, Tensor g) {
        Tensor a = c.input(0), b = c.input(1);
        Tensor a2 = a.dim() == 1 ? a.unsqueeze(0) : a;
        Tensor b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
        Tensor g2 = g;
        if (a.dim() == 1) g2 = g2.unsqueeze(b.dim() == 1 ? 0 : -2);
        if (b.dim() == 1) g2 = g2.unsqueeze(-1);
        Tensor ga = null, gb = null;
        if (c.needsGrad(0)) ga = g2.matmul(b2.transpose(-1, -2)).sumToShape(a2.data().shape()).reshapeAs(a);
        if (c.needsGrad(1)) {
            // a weight shared by every row of a batch (x [.., m, k] @ w [k, n]): one GEMM over
            // all rows, as PyTorch folds it, instead of a batch of [k, n] products summed after
            gb = b.dim() == 2 && a.dim() >= 3 ? weightGrad(a.flatten(0, -2), g.flatten(0, -2), b)
                    : a2.transpose(-1, -2).matmul(g2).sumToShape(b2.data().shape()).reshapeAs(b);
        }
        return two(ga, gb);
    }

    /**
     * Places g (the slice start, start+step, ... along d) into zeros of shape xs. Zeros are
     * derived from g (pad of an empty slice) rather than created from a shape, so a traced
     * backward keeps symbolic dims.
     */
    static Tensor placeAlong(Tensor g, int[] xs, int d, int start, int step) {
        // sizes that reach pad/arange attributes: a symbolic dim d would be baked here, and the
        // traced type rule then fails (pad of a constant-size gradient against a symbolic input)
        int n = xs[d], len = g.data().shape()[d];
        if (step == 1 || len == 0) {
            int[] pads = new int[2 * (xs.length - d)];
            pads[pads.length - 2] = len == 0 ? 0 : start;
            pads[pads.length - 1] = len == 0 ? n : n - start - len;
            return g.pad(pads);
        }
        int[] view = new int[xs.length];
        java.util.Arrays.fill(view, 1);
        view[d] = len;
        Tensor idx = Tensor.arange(start, start + (long) len * step, step).reshape(view).expandAs(g);
        return zerosAlong(g, d, n).scatterAdd(d, idx, g);
    }

    /** Zeros shaped like g except that dim d has size n. */
    private static Tensor zerosAlong(Tensor g, int d, int n) {
        int[] pads = new int[2 * (g.dim() - d)];
        pads[pads.length - 1] = n;
        return Tensor.zerosLike(g.narrow(d, 0, 0)).pad(pads);
    }

    private static Tensor[] pad(GradContext c, Tensor g) {
        int[] pads = c.attrs().getInts("pads");
        String mode = c.attrs().getString("mode");
        if (mode.equals("constant")) {
            int[] neg = new int[pads.length];
            for (int i = 0; i < pads.length; i++) neg[i] = -pads[i];
            return one(g.pad(neg));
        }
        // reflect/replicate are separable: undo one dim at a time, accumulating with scatter_add
        Tensor x = c.input(0);
        int r = x.dim();
        Tensor cur = g;
        for (int i = 0; i < pads.length / 2; i++) {
            int d = r - 1 - i, lo = pads[2 * i];
            int n = x.data().shape()[d], m = cur.data().shape()[d];
            long[] map = new long[m];
            for (int o = 0; o < m; o++) {
                int s = o - lo;
                if (mode.equals("reflect")) {
                    if (s < 0) s = -s;
                    if (s >= n) s = 2 * (n - 1) - s;
                } else {
                    s = Math.min(Math.max(s, 0), n - 1);
                }
                map[o] = s;
            }
            int[] view = new int[r];
            java.util.Arrays.fill(view, 1);
            view[d] = m;
            Tensor idx = Tensor.of(map, m).reshape(view).expandAs(cur);
            // zeros derived from cur (not created from its concrete shape), so a traced batch stays symbolic
            cur = zerosAlong(cur, d, n).scatterAdd(d, idx, cur);
        }
        return one(cur);
    }
}
