package dev.kiln.onnx;

import dev.kiln.backend.DType;
import dev.kiln.eager.SymInt;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.onnx.OnnxModule.Env;
import dev.kiln.onnx.OnnxModule.Shape;
import dev.kiln.onnx.OnnxProto.Attribute;
import dev.kiln.onnx.OnnxProto.Node;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Each supported ONNX operator (default domain, opsets 13 to 17) as Kiln tensor code. The list
 * is docs/onnx.md's; anything else is an error naming the node, the operator and the opset.
 */
final class OnnxOps {
    private OnnxOps() {}

    static final long MIN_OPSET = 13, MAX_OPSET = 17;

    static Object[] apply(Node n, Env env, long opset) {
        if (!n.domain().isEmpty() && !n.domain().equals("ai.onnx")) {
            throw new OnnxException(n.label() + ": operator domain '" + n.domain() + "' is not supported (only the default ONNX domain)");
        }
        boolean constant = allConstant(n, env);
        Object[] out = dispatch(n, env, opset);
        if (constant) for (Object o : out) if (o instanceof Tensor t) env.markConstant(t);
        return out;
    }

    private static boolean allConstant(Node n, Env env) {
        if (n.opType().equals("Shape") || n.opType().equals("Size")) return false; // a Shape value, not a tensor
        for (String i : n.inputs()) {
            if (i.isEmpty()) continue;
            Object v = env.get(i, "input");
            if (v instanceof Shape s ? !s.isConcrete() : !env.isConstant((Tensor) v)) return false;
        }
        return true;
    }

    private static Object[] one(Object o) { return new Object[] {o}; }

    private static Object[] dispatch(Node n, Env env, long opset) {
        switch (n.opType()) {
            // ---- elementwise
            case "Identity": return one(env.get(n.inputs().get(0), "input"));
            case "Neg": return one(x(n, env).neg());
            case "Abs": return one(x(n, env).abs());
            case "Sign": return one(x(n, env).sign());
            case "Exp": return one(x(n, env).exp());
            case "Log": return one(x(n, env).log());
            case "Sqrt": return one(x(n, env).sqrt());
            case "Reciprocal": return one(x(n, env).reciprocal());
            case "Sin": return one(x(n, env).sin());
            case "Cos": return one(x(n, env).cos());
            case "Tanh": return one(x(n, env).tanh());
            case "Sigmoid": return one(x(n, env).sigmoid());
            case "Relu": return one(x(n, env).relu());
            case "Erf": return one(x(n, env).erf());
            case "Floor": return one(x(n, env).floor());
            case "Ceil": return one(x(n, env).ceil());
            case "Round": return one(x(n, env).round());
            case "Softplus": { // max(x, 0) + log1p(exp(-|x|)): exp(x) alone overflows for x > 88
                Tensor x = x(n, env);
                return one(x.relu().add(x.abs().neg().exp().log1p()));
            }
            case "LeakyRelu": {
                Tensor x = x(n, env);
                double a = attrFloat(n, "alpha", 0.01);
                return one(Tensor.where(x.ge(0.0), x, x.mul(a)));
            }
            case "HardSigmoid": {
                double a = attrFloat(n, "alpha", 0.2), b = attrFloat(n, "beta", 0.5);
                return one(x(n, env).mul(a).add(b).clamp(0.0, 1.0));
            }
            case "Not": return one(x(n, env).logicalNot());
            case "Add": return binary(n, env, "Add");
            case "Sub": return binary(n, env, "Sub");
            case "Mul": return binary(n, env, "Mul");
            case "Div": return binary(n, env, "Div");
            case "Pow": return one(in(n, env, 0).pow(in(n, env, 1)));
            case "Mod": {
                boolean fmod = attrInt(n, "fmod", 0) != 0;
                Tensor a = in(n, env, 0), b = in(n, env, 1);
                boolean real = a.dtype().isFloatingPoint() || b.dtype().isFloatingPoint();
                if (real && fmod) throw unsupported(n, "fmod=1 on floating-point inputs (C's fmod; Kiln has no exact op for it)");
                if (real) return one(a.sub(a.div(b).floor().mul(b)));
                // integers, exactly in int64: C's remainder (the dividend's sign) for fmod=1, else the divisor's sign
                Tensor r = a.sub(truncDiv(a, b).mul(b));
                if (fmod) return one(r);
                Tensor fix = r.ne(0.0).logicalAnd(r.lt(0.0).logicalXor(b.lt(0.0)));
                return one(Tensor.where(fix, r.add(b), r));
            }
            case "Max": return one(variadic(n, env, Tensor::maximum));
            case "Min": return one(variadic(n, env, Tensor::minimum));
            case "Sum": return one(variadic(n, env, Tensor::add));
            case "Mean": return one(variadic(n, env, Tensor::add).div((double) present(n)));
            case "Equal": {
                Object a = env.get(n.inputs().get(0), "input"), b = env.get(n.inputs().get(1), "input");
                if (a instanceof Shape || b instanceof Shape) return one(shapeEquals(n, env, a, b));
                return one(in(n, env, 0).eq(in(n, env, 1)));
            }
            case "Less": return one(in(n, env, 0).lt(in(n, env, 1)));
            case "LessOrEqual": return one(in(n, env, 0).le(in(n, env, 1)));
            case "Greater": return one(in(n, env, 0).gt(in(n, env, 1)));
            case "GreaterOrEqual": return one(in(n, env, 0).ge(in(n, env, 1)));
            case "And": return one(in(n, env, 0).logicalAnd(in(n, env, 1)));
            case "Or": return one(in(n, env, 0).logicalOr(in(n, env, 1)));
            case "Xor": return one(in(n, env, 0).logicalXor(in(n, env, 1)));
            case "Where": {
                Object a = env.get(n.inputs().get(1), "input"), b = env.get(n.inputs().get(2), "input");
                if (a instanceof Shape || b instanceof Shape) return one(shapeWhere(n, env, a, b));
                return one(Tensor.where(in(n, env, 0), in(n, env, 1), in(n, env, 2)));
            }
            case "Clip": {
                Tensor x = x(n, env);
                Double lo = optScalar(n, env, 1), hi = optScalar(n, env, 2);
                return one(lo == null && hi == null ? x : x.clamp(lo, hi));
            }
            case "Cast": return cast(n, env);
            case "CastLike": return one(in(n, env, 0).to(in(n, env, 1).dtype()));
            case "Dropout": {
                Tensor x = x(n, env);
                return new Object[] {x, Tensor.onesLike(x).to(DType.BOOL)}; // inference: the identity, mask all true
            }
            // ---- softmax, matrices, normalization
            case "Softmax": return one(x(n, env).softmax((int) attrInt(n, "axis", -1)));
            case "LogSoftmax": return one(x(n, env).logSoftmax((int) attrInt(n, "axis", -1)));
            case "MatMul": return one(in(n, env, 0).matmul(in(n, env, 1)));
            case "Gemm": return one(gemm(n, env));
            case "BatchNormalization": {
                if (attrInt(n, "training_mode", 0) != 0) throw unsupported(n, "training_mode=1");
                return one(F.batchNorm(x(n, env), in(n, env, 3), in(n, env, 4), in(n, env, 1), in(n, env, 2), false, 0.0, attrFloat(n, "epsilon", 1e-5)));
            }
            case "LayerNormalization": {
                Tensor x = x(n, env);
                int axis = norm((int) attrInt(n, "axis", -1), x.dim());
                int[] shape = Arrays.copyOfRange(x.data().shape(), axis, x.dim());
                if (n.outputs().size() > 1 && n.outputs().subList(1, n.outputs().size()).stream().anyMatch(s -> !s.isEmpty()))
                    throw unsupported(n, "the Mean and InvStdDev outputs");
                return one(F.layerNorm(x, shape, in(n, env, 1), opt(n, env, 2), attrFloat(n, "epsilon", 1e-5)));
            }
            // ---- convolution and pooling
            case "Conv": return one(conv(n, env));
            case "ConvTranspose": return one(convTranspose(n, env));
            case "MaxPool": return one(pool(n, env, true));
            case "AveragePool": return one(pool(n, env, false));
            case "GlobalAveragePool": {
                Tensor x = x(n, env);
                return one(x.mean(spatial(x), true));
            }
            case "GlobalMaxPool": {
                Tensor x = x(n, env);
                return one(x.amax(spatial(x), true));
            }
            // ---- reductions
            case "ReduceSum": return one(reduce(n, env, opset, "sum"));
            case "ReduceMean": return one(reduce(n, env, opset, "mean"));
            case "ReduceMax": return one(reduce(n, env, opset, "max"));
            case "ReduceMin": return one(reduce(n, env, opset, "min"));
            case "ReduceProd": return one(reduce(n, env, opset, "prod"));
            case "ArgMax":
            case "ArgMin": {
                if (attrInt(n, "select_last_index", 0) != 0) throw unsupported(n, "select_last_index=1");
                Tensor x = x(n, env);
                int axis = (int) attrInt(n, "axis", 0);
                boolean keep = attrInt(n, "keepdims", 1) != 0;
                return one(n.opType().equals("ArgMax") ? x.argmax(axis, keep) : x.argmin(axis, keep));
            }
            case "CumSum": {
                if (attrInt(n, "exclusive", 0) != 0 || attrInt(n, "reverse", 0) != 0) throw unsupported(n, "exclusive or reverse");
                return one(x(n, env).cumsum((int) constInts(n, env, 1)[0]));
            }
            // ---- shapes
            case "Shape": return one(shape(n, env));
            case "Size": {
                Tensor x = x(n, env);
                SymInt p = SymInt.of(1);
                for (int d = 0; d < x.dim(); d++) p = p.times(x.sizeSym(d));
                return one(new Shape(new SymInt[] {p}, true));
            }
            case "Reshape": return one(reshape(n, env));
            case "Flatten": {
                Tensor x = x(n, env);
                int axis = norm((int) attrInt(n, "axis", 1), x.dim() + 1);
                if (axis == 0) return one(x.reshape(SymInt.of(1), SymInt.INFER));
                Tensor t = axis < x.dim() ? x.flatten(axis) : x.unsqueeze(x.dim());
                return one(axis > 1 ? t.flatten(0, axis - 1) : t);
            }
            case "Transpose": {
                Tensor x = x(n, env);
                long[] perm = attrInts(n, "perm", null);
                int[] p = new int[x.dim()];
                for (int i = 0; i < p.length; i++) p[i] = perm == null ? p.length - 1 - i : (int) perm[i];
                return one(x.permute(p));
            }
            case "Squeeze": return one(squeeze(n, env, opset));
            case "Unsqueeze": return one(unsqueeze(n, env, opset));
            case "Concat": return one(concat(n, env));
            case "Split": return split(n, env, opset);
            case "Slice": return one(slice(n, env));
            case "Gather": return one(gather(n, env));
            case "GatherElements": return one(in(n, env, 0).gather((int) attrInt(n, "axis", 0), in(n, env, 1)));
            case "Expand": return one(expand(n, env));
            case "Tile": {
                long[] reps = constInts(n, env, 1);
                Tensor tx = x(n, env);
                long[] out = new long[Math.max(reps.length, tx.dim())];
                for (int i = 0; i < out.length; i++) {
                    int xi = i - (out.length - tx.dim()), ri = i - (out.length - reps.length);
                    long dim = xi >= 0 ? tx.data().shape()[xi] : 1, rep = ri >= 0 ? reps[ri] : 1;
                    if (rep < 0) throw new OnnxException(n.label() + ": repeat " + rep + " is negative");
                    out[i] = Math.multiplyExact(dim, rep);
                }
                env.tensors.checkCreated(tx.dtype(), out, n.label() + " output");
                return one(x(n, env).repeat(Arrays.stream(reps).mapToInt(Math::toIntExact).toArray()));
            }
            case "Pad": return one(pad(n, env));
            case "Trilu": {
                Tensor x = x(n, env);
                int k = present(n, 1) ? (int) constInts(n, env, 1)[0] : 0;
                return one(attrInt(n, "upper", 1) != 0 ? x.triu(k) : x.tril(k));
            }
            case "Constant": return one(constant(n, env));
            case "ConstantOfShape": return one(constantOfShape(n, env));
            case "Range": return one(range(n, env));
            case "LSTM": return OnnxRecurrent.lstm(n, env);
            case "GRU": return OnnxRecurrent.gru(n, env);
            case "Scan": return OnnxControlFlow.scan(n, env, opset);
            case "If": return OnnxControlFlow.ifThenElse(n, env, opset);
            case "Loop": return OnnxControlFlow.loop(n, env, opset);
            default:
                throw new OnnxException(n.label() + ": operator " + n.opType() + " is not supported by Kiln's importer (opset " + opset + "; docs/onnx.md lists the supported ones)");
        }
    }

    // ---- inputs and attributes ----------------------------------------------------------------

    static OnnxException unsupported(Node n, String what) { return new OnnxException(n.label() + ": " + what + " is not supported"); }

    static boolean present(Node n, int i) { return i < n.inputs().size() && !n.inputs().get(i).isEmpty(); }

    private static int present(Node n) {
        int c = 0;
        for (String s : n.inputs()) if (!s.isEmpty()) c++;
        return c;
    }

    static Tensor in(Node n, Env env, int i) {
        if (!present(n, i)) throw new OnnxException(n.label() + ": input " + i + " is required");
        return env.tensor(n.inputs().get(i), n.label() + " input " + i);
    }

    static Tensor opt(Node n, Env env, int i) { return present(n, i) ? in(n, env, i) : null; }

    static Tensor x(Node n, Env env) { return in(n, env, 0); }

    /** A constant integer input (axes, pads, starts...): from a constant tensor or a concrete shape. */
    static long[] constInts(Node n, Env env, int i) {
        Object v = env.get(n.inputs().get(i), n.label() + " input " + i);
        if (v instanceof Shape s) {
            if (!s.isConcrete()) throw new OnnxException(n.label() + ": input " + i + " must be constant here, but holds symbolic sizes " + Arrays.toString(s.dims()));
            return s.values();
        }
        Tensor t = (Tensor) v;
        if (!env.isConstant(t)) throw new OnnxException(n.label() + ": input " + i + " ('" + n.inputs().get(i) + "') must be a constant (an initializer or computed from them)");
        return t.to(DType.INT64).contiguous().toLongArray();
    }

    private static Double optScalar(Node n, Env env, int i) {
        if (!present(n, i)) return null;
        Tensor t = in(n, env, i);
        if (!env.isConstant(t)) throw new OnnxException(n.label() + ": input " + i + " must be a constant");
        return t.to(DType.FLOAT64).item();
    }

    static Attribute attr(Node n, String name) { return n.attributes().get(name); }

    static long attrInt(Node n, String name, long dflt) {
        Attribute a = attr(n, name);
        return a == null ? dflt : a.i();
    }

    static double attrFloat(Node n, String name, double dflt) {
        Attribute a = attr(n, name);
        return a == null ? dflt : a.f();
    }

    static String attrString(Node n, String name, String dflt) {
        Attribute a = attr(n, name);
        return a == null || a.s() == null ? dflt : a.s();
    }

    static long[] attrInts(Node n, String name, long[] dflt) {
        Attribute a = attr(n, name);
        return a == null ? dflt : a.ints();
    }

    static int norm(int axis, int rank) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new IllegalArgumentException("axis " + axis + " is out of range for rank " + rank);
        return a;
    }

    private static int[] toInts(long[] v) { return Arrays.stream(v).mapToInt(Math::toIntExact).toArray(); }

    // ---- op bodies ---------------------------------------------------------------------------

    private interface Bin {
        Tensor apply(Tensor a, Tensor b);
    }

    private static Tensor variadic(Node n, Env env, Bin f) {
        Tensor acc = null;
        for (int i = 0; i < n.inputs().size(); i++) {
            if (!present(n, i)) continue;
            Tensor t = in(n, env, i);
            acc = acc == null ? t : f.apply(acc, t);
        }
        if (acc == null) throw new OnnxException(n.label() + ": no inputs");
        return acc;
    }

    /** Arithmetic, following shape vectors symbolically where both sides allow it. */
    private static Object[] binary(Node n, Env env, String op) {
        Object a = env.get(n.inputs().get(0), "input"), b = env.get(n.inputs().get(1), "input");
        if (a instanceof Shape || b instanceof Shape) {
            Shape r = shapeArith(n, env, op, a, b);
            if (r != null) return one(r);
        }
        Tensor x = in(n, env, 0), y = in(n, env, 1);
        boolean ints = !x.dtype().isFloatingPoint() && !y.dtype().isFloatingPoint();
        return one(switch (op) {
            case "Add" -> x.add(y);
            case "Sub" -> x.sub(y);
            case "Mul" -> x.mul(y);
            default -> ints ? truncDiv(x, y) : x.div(y);
        });
    }

    /**
     * ONNX's integer Div, truncating toward zero, exact in int64. The float64 quotient is off by
     * up to |q| * 2^-52 (hundreds near 2^63); the exact remainder of that guess (int64 wraps, and
     * the true value fits) divided again is then off by at most one, which the sign and size of
     * the final remainder fix. A divisor of Long.MIN_VALUE is exact (the quotient is 1 for
     * MIN_VALUE, else 0), and x / 0, which ONNX leaves undefined, is 0.
     */
    static Tensor truncDiv(Tensor a, Tensor b) {
        a = a.to(DType.INT64);
        b = b.to(DType.INT64);
        Tensor minValue = Tensor.of(new long[] {Long.MIN_VALUE}).reshape(); // compared as i64: a double would round MIN_VALUE + 1 onto it
        Tensor zero = b.eq(0.0), min = b.eq(minValue);
        Tensor safe = Tensor.where(zero.logicalOr(min), Tensor.onesLike(b), b); // the special divisors are answered below
        Tensor bf = safe.to(DType.FLOAT64);
        Tensor q = truncToLong(a.to(DType.FLOAT64).div(bf));
        q = q.add(truncToLong(a.sub(q.mul(safe)).to(DType.FLOAT64).div(bf)));
        Tensor r = a.sub(q.mul(safe));
        Tensor step = a.lt(0.0).logicalXor(safe.lt(0.0)).to(DType.INT64).mul(-2L).add(1L); // sign of the exact quotient
        // |r| >= |b| compared exactly in int64, without abs (which overflows at MIN_VALUE): r >= b or r <= b when their signs
        // agree, r + b >= 0 or r + b <= 0 when they differ (a sum of opposite signs cannot overflow)
        Tensor rPos = r.gt(0.0), bPos = safe.gt(0.0), sum = r.add(safe);
        Tensor tooBig = r.ne(0.0).logicalAnd(Tensor.where(rPos,
                Tensor.where(bPos, r.ge(safe), sum.ge(0.0)),
                Tensor.where(bPos, sum.le(0.0), r.le(safe))));
        Tensor wrongSign = r.ne(0.0).logicalAnd(r.lt(0.0).logicalXor(a.lt(0.0))); // r opposes a: q is one over
        q = Tensor.where(tooBig, q.add(step), q);
        q = Tensor.where(wrongSign, q.sub(step), q);
        q = Tensor.where(min, a.eq(minValue).to(DType.INT64), q);
        return Tensor.where(zero, Tensor.zerosLike(q), q);
    }

    private static Tensor truncToLong(Tensor f) { return Tensor.where(f.lt(0.0), f.ceil(), f.floor()).to(DType.INT64); }

    private static Shape shapeArith(Node n, Env env, String op, Object a, Object b) {
        SymInt[] x = symbols(n, env, a), y = symbols(n, env, b);
        if (x == null || y == null) return null;
        int len = Math.max(x.length, y.length);
        if (x.length != len && x.length != 1 || y.length != len && y.length != 1) return null;
        SymInt[] r = new SymInt[len];
        for (int i = 0; i < len; i++) {
            SymInt p = x[x.length == 1 ? 0 : i], q = y[y.length == 1 ? 0 : i];
            switch (op) {
                case "Mul" -> r[i] = p.times(q);
                case "Div" -> {
                    if (!p.isSymbolic() && !q.isSymbolic()) {
                        if (q.intValue() == 0) return null;
                        r[i] = SymInt.of(p.intValue() / q.intValue()); // ONNX int Div truncates; sizes are non-negative
                    } else {
                        r[i] = p.div(q); // exact, or an error naming both sizes
                    }
                }
                default -> {
                    if (p.isSymbolic() || q.isSymbolic()) return null;
                    r[i] = SymInt.of(op.equals("Add") ? p.intValue() + q.intValue() : p.intValue() - q.intValue());
                }
            }
        }
        boolean scalar = (a instanceof Shape s ? s.scalar() : ((Tensor) a).dim() == 0) && (b instanceof Shape s2 ? s2.scalar() : ((Tensor) b).dim() == 0);
        return new Shape(r, scalar);
    }

    /** A shape vector's sizes, or a constant integer tensor's values as sizes; null otherwise. */
    private static SymInt[] symbols(Node n, Env env, Object v) {
        if (v instanceof Shape s) return s.dims();
        Tensor t = (Tensor) v;
        if (!env.isConstant(t) || t.dtype().isFloatingPoint() || t.dim() > 1) return null;
        long[] vals = t.to(DType.INT64).contiguous().toLongArray();
        SymInt[] r = new SymInt[vals.length];
        for (int i = 0; i < r.length; i++) {
            if (vals[i] < 0) return null;
            r[i] = SymInt.of(vals[i]);
        }
        return r;
    }

    /**
     * Equal on sizes, as exporters emit to find the -1 entries of a target shape: decided at
     * import (a size is never negative; two concrete sizes compare), else an error.
     */
    private static Tensor shapeEquals(Node n, Env env, Object a, Object b) {
        SymInt[] x = symbolsOrNegative(n, env, a), y = symbolsOrNegative(n, env, b);
        int len = Math.max(x.length, y.length);
        boolean[] r = new boolean[len];
        for (int i = 0; i < len; i++) {
            SymInt p = x[x.length == 1 ? 0 : i], q = y[y.length == 1 ? 0 : i];
            if (p == SymInt.INFER || q == SymInt.INFER) r[i] = p == q;
            else if (p.isSymbolic() || q.isSymbolic()) {
                if (p.dim().equals(q.dim())) r[i] = true;
                else throw new OnnxException(n.label() + ": comparing sizes " + p + " and " + q + " depends on the input; Kiln cannot decide it at import");
            } else r[i] = p.intValue() == q.intValue();
        }
        Tensor t = Tensor.of(r, len);
        env.markConstant(t);
        return t;
    }

    /** Where on sizes with a condition decided at import: picks sizes element by element. */
    private static Shape shapeWhere(Node n, Env env, Object a, Object b) {
        Tensor c = in(n, env, 0);
        if (!env.isConstant(c)) throw unsupported(n, "Where on sizes with a computed condition");
        boolean[] cond = c.to(DType.BOOL).contiguous().toBooleanArray();
        SymInt[] x = symbolsOrNegative(n, env, a), y = symbolsOrNegative(n, env, b);
        int len = Math.max(cond.length, Math.max(x.length, y.length));
        SymInt[] r = new SymInt[len];
        for (int i = 0; i < len; i++) r[i] = cond[cond.length == 1 ? 0 : i] ? x[x.length == 1 ? 0 : i] : y[y.length == 1 ? 0 : i];
        return new Shape(r, false);
    }

    /** Sizes of a shape vector or constant int tensor, -1 as INFER (other negatives are errors). */
    private static SymInt[] symbolsOrNegative(Node n, Env env, Object v) {
        if (v instanceof Shape s) return s.dims();
        long[] vals = constInts(n, env, n.inputs().indexOf(n.inputs().stream().filter(i -> !i.isEmpty() && env.get(i, "input") == v).findFirst().orElseThrow()));
        SymInt[] r = new SymInt[vals.length];
        for (int i = 0; i < r.length; i++) {
            if (vals[i] == -1) r[i] = SymInt.INFER;
            else if (vals[i] < 0) throw new OnnxException(n.label() + ": size " + vals[i] + " is invalid");
            else r[i] = SymInt.of(vals[i]);
        }
        return r;
    }

    private static Object[] cast(Node n, Env env) {
        int to = (int) attrInt(n, "to", 0);
        Object v = env.get(n.inputs().get(0), "input");
        DType t = OnnxTensors.kilnType(to, n.label() + " 'to'");
        if (v instanceof Shape s && t == DType.INT64) return one(s);
        return one(in(n, env, 0).to(t));
    }

    private static Tensor gemm(Node n, Env env) {
        Tensor a = in(n, env, 0), b = in(n, env, 1), c = opt(n, env, 2);
        if (attrInt(n, "transA", 0) != 0) a = a.t();
        double alpha = attrFloat(n, "alpha", 1), beta = attrFloat(n, "beta", 1);
        boolean transB = attrInt(n, "transB", 0) != 0;
        if (transB && alpha == 1 && beta == 1 && (c == null || c.dim() <= 1)) return F.linear(a, b, c); // the layer's addmm
        Tensor y = a.matmul(transB ? b.t() : b);
        if (alpha != 1) y = y.mul(alpha);
        if (c != null) y = y.add(beta == 1 ? c : c.mul(beta));
        return y;
    }

    /** pads [x1_begin, x2_begin, ..., x1_end, x2_end] as symmetric Kiln padding, or null when asymmetric. */
    private static int[] symmetric(long[] pads, int spatial) {
        int[] p = new int[spatial];
        for (int i = 0; i < spatial; i++) {
            if (pads[i] != pads[i + spatial]) return null;
            p[i] = (int) pads[i];
        }
        return p;
    }

    /** The explicit pads of a conv or pool: from pads, or computed for auto_pad SAME_UPPER/SAME_LOWER/VALID. */
    private static long[] pads(Node n, Tensor x, long[] kernel, long[] strides, long[] dilations) {
        int s = kernel.length;
        String auto = attrString(n, "auto_pad", "NOTSET");
        long[] p = attrInts(n, "pads", new long[2 * s]);
        if (auto.equals("NOTSET")) return p;
        long[] r = new long[2 * s];
        if (auto.equals("VALID")) return r;
        for (int i = 0; i < s; i++) {
            long in = x.data().shape()[2 + i];
            long out = (in + strides[i] - 1) / strides[i];
            long total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - in);
            long small = total / 2, big = total - small;
            r[i] = auto.equals("SAME_UPPER") ? small : big;
            r[i + s] = auto.equals("SAME_UPPER") ? big : small;
        }
        return r;
    }

    private static Tensor padSpatial(Tensor x, long[] pads, double value) {
        int s = pads.length / 2;
        int[] kp = new int[2 * s];
        for (int i = 0; i < s; i++) { // Kiln lists the last dim first
            int d = s - 1 - i;
            kp[2 * i] = (int) pads[d];
            kp[2 * i + 1] = (int) pads[d + s];
        }
        return x.pad(kp, "constant", value);
    }

    private static Tensor conv(Node n, Env env) {
        Tensor x = x(n, env), w = in(n, env, 1), b = opt(n, env, 2);
        int s = w.dim() - 2;
        if (s != 1 && s != 2) throw unsupported(n, s + "-D convolution");
        long[] k = Arrays.copyOfRange(Arrays.stream(w.data().shape()).asLongStream().toArray(), 2, 2 + s);
        long[] strides = attrInts(n, "strides", ones(s)), dil = attrInts(n, "dilations", ones(s));
        long[] p = pads(n, x, k, strides, dil);
        int groups = (int) attrInt(n, "group", 1);
        int[] sym = symmetric(p, s);
        if (sym == null) {
            x = padSpatial(x, p, 0.0);
            sym = new int[s];
        }
        if (s == 1) return F.conv1d(x, w, b, (int) strides[0], sym[0], (int) dil[0], groups);
        return F.conv2d(x, w, b, toInts(strides), sym, toInts(dil), groups);
    }

    private static Tensor convTranspose(Node n, Env env) {
        Tensor x = x(n, env), w = in(n, env, 1), b = opt(n, env, 2);
        if (w.dim() != 4) throw unsupported(n, (w.dim() - 2) + "-D transposed convolution");
        if (attr(n, "output_shape") != null) throw unsupported(n, "output_shape (give pads and output_padding)");
        if (!attrString(n, "auto_pad", "NOTSET").equals("NOTSET")) throw unsupported(n, "auto_pad on ConvTranspose");
        long[] strides = attrInts(n, "strides", ones(2)), dil = attrInts(n, "dilations", ones(2)), op = attrInts(n, "output_padding", new long[2]);
        int[] sym = symmetric(attrInts(n, "pads", new long[4]), 2);
        if (sym == null) throw unsupported(n, "asymmetric pads on ConvTranspose");
        return F.convTranspose2d(x, w, b, toInts(strides), sym, toInts(op), (int) attrInt(n, "group", 1), toInts(dil));
    }

    private static Tensor pool(Node n, Env env, boolean max) {
        Tensor x = x(n, env);
        if (x.dim() != 4) throw unsupported(n, (x.dim() - 2) + "-D pooling");
        if (max && n.outputs().size() > 1 && !n.outputs().get(1).isEmpty()) throw unsupported(n, "MaxPool's Indices output");
        if (attrInt(n, "storage_order", 0) != 0) throw unsupported(n, "storage_order=1");
        long[] k = attrInts(n, "kernel_shape", null);
        if (k == null) throw new OnnxException(n.label() + ": kernel_shape is required");
        long[] strides = attrInts(n, "strides", ones(2)), dil = attrInts(n, "dilations", ones(2));
        long[] p = pads(n, x, k, strides, dil);
        boolean ceil = attrInt(n, "ceil_mode", 0) != 0;
        int[] sym = symmetric(p, 2);
        if (max) {
            if (sym == null) {
                x = padSpatial(x, p, Double.NEGATIVE_INFINITY);
                sym = new int[2];
            }
            return F.maxPool2d(x, toInts(k), toInts(strides), sym, toInts(dil), ceil);
        }
        if (Arrays.stream(dil).anyMatch(d -> d != 1)) throw unsupported(n, "dilated average pooling");
        if (sym == null) throw unsupported(n, "asymmetric pads on AveragePool");
        return F.avgPool2d(x, toInts(k), toInts(strides), sym, ceil, attrInt(n, "count_include_pad", 0) != 0);
    }

    private static long[] ones(int n) {
        long[] r = new long[n];
        Arrays.fill(r, 1);
        return r;
    }

    private static int[] spatial(Tensor x) {
        int[] d = new int[x.dim() - 2];
        for (int i = 0; i < d.length; i++) d[i] = i + 2;
        return d;
    }

    private static Tensor reduce(Node n, Env env, long opset, String kind) {
        Tensor x = x(n, env);
        long[] axes = kind.equals("sum") || opset >= 18 ? (present(n, 1) ? constInts(n, env, 1) : null) : attrInts(n, "axes", null);
        boolean keep = attrInt(n, "keepdims", 1) != 0;
        if (axes == null || axes.length == 0) {
            if (attrInt(n, "noop_with_empty_axes", 0) != 0) return x;
            axes = new long[x.dim()];
            for (int i = 0; i < axes.length; i++) axes[i] = i;
        }
        int[] dims = new int[axes.length];
        for (int i = 0; i < dims.length; i++) dims[i] = norm((int) axes[i], x.dim());
        return switch (kind) {
            case "sum" -> x.sum(dims, keep);
            case "mean" -> x.mean(dims, keep);
            case "max" -> x.amax(dims, keep);
            case "min" -> x.amin(dims, keep);
            default -> x.prod(dims, keep);
        };
    }

    private static Shape shape(Node n, Env env) {
        Object v = env.get(n.inputs().get(0), "input");
        if (v instanceof Shape s) return new Shape(s.scalar() ? new SymInt[0] : new SymInt[] {SymInt.of(s.dims().length)}, false);
        Tensor x = (Tensor) v;
        int r = x.dim();
        int start = (int) attrInt(n, "start", 0), end = (int) attrInt(n, "end", r);
        start = Math.max(0, Math.min(r, start < 0 ? start + r : start));
        end = Math.max(0, Math.min(r, end < 0 ? end + r : end));
        SymInt[] d = new SymInt[Math.max(0, end - start)];
        for (int i = 0; i < d.length; i++) d[i] = x.sizeSym(start + i);
        return new Shape(d, false);
    }

    /** A target shape from a shape vector or a constant: each entry a SymInt, -1 as INFER, 0 copying x's dim unless allowzero. */
    private static SymInt[] target(Node n, Env env, int i, Tensor x, boolean allowZero) {
        Object v = env.get(n.inputs().get(i), n.label() + " shape");
        SymInt[] dims;
        if (v instanceof Shape s) {
            dims = s.dims();
        } else {
            long[] vals = constInts(n, env, i);
            dims = new SymInt[vals.length];
            for (int k = 0; k < vals.length; k++) {
                if (vals[k] == -1) dims[k] = SymInt.INFER;
                else if (vals[k] == 0 && !allowZero && x != null) dims[k] = x.sizeSym(k);
                else if (vals[k] < 0) throw new OnnxException(n.label() + ": shape entry " + vals[k] + " is invalid");
                else dims[k] = SymInt.of(vals[k]);
            }
        }
        return dims;
    }

    private static Object reshape(Node n, Env env) {
        Object v = env.get(n.inputs().get(0), "input");
        if (v instanceof Shape s) { // a size vector reshaped to 1-D (or to a scalar) stays one
            long[] t = constInts(n, env, 1);
            if (t.length == 1 && (t[0] == -1 || t[0] == s.dims().length)) return new Shape(s.dims(), false);
            if (t.length == 0 && s.dims().length == 1) return new Shape(s.dims(), true);
            throw unsupported(n, "reshaping a size vector to " + Arrays.toString(t));
        }
        Tensor x = (Tensor) v;
        SymInt[] dims = target(n, env, 1, x, attrInt(n, "allowzero", 0) != 0);
        if (dims.length == 0) return x.reshape(new int[0]);
        return x.reshape(dims[0], Arrays.copyOfRange(dims, 1, dims.length));
    }

    private static Tensor expand(Node n, Env env) {
        Tensor x = x(n, env);
        SymInt[] t = target(n, env, 1, null, true);
        int r = Math.max(t.length, x.dim());
        SymInt[] out = new SymInt[r];
        for (int i = 0; i < r; i++) {
            int ti = i - (r - t.length), xi = i - (r - x.dim());
            SymInt want = ti >= 0 ? t[ti] : SymInt.INFER;
            // ONNX Expand broadcasts both ways: a 1 in the target keeps x's dim
            boolean keep = want == SymInt.INFER || !want.isSymbolic() && want.intValue() == 1;
            out[i] = keep ? (xi >= 0 ? SymInt.INFER : SymInt.of(1)) : want;
            if (keep && xi < 0) out[i] = SymInt.of(1);
        }
        if (r == 0) return x;
        long[] concrete = new long[r];
        boolean known = true;
        for (int i = 0; i < r; i++) {
            int xi = i - (r - x.dim());
            if (out[i] == SymInt.INFER) concrete[i] = xi >= 0 ? x.data().shape()[xi] : 1;
            else if (out[i].isSymbolic()) known = false;
            else concrete[i] = out[i].intValue();
        }
        if (known) env.tensors.checkCreated(x.dtype(), concrete, n.label() + " output");
        return x.expand(out[0], Arrays.copyOfRange(out, 1, r));
    }

    private static Object squeeze(Node n, Env env, long opset) {
        Object v = env.get(n.inputs().get(0), "input");
        long[] axes = present(n, 1) ? constInts(n, env, 1) : attrInts(n, "axes", null);
        if (v instanceof Shape s) {
            if (s.dims().length != 1) throw unsupported(n, "squeezing a shape vector of " + s.dims().length);
            return new Shape(s.dims(), true);
        }
        Tensor x = (Tensor) v;
        if (axes == null) {
            for (int d = x.dim() - 1; d >= 0; d--) if (x.data().shape()[d] == 1) x = x.squeeze(d);
            return x;
        }
        int rank = x.dim();
        int[] ds = Arrays.stream(axes).mapToInt(a -> norm((int) a, rank)).sorted().toArray();
        for (int i = ds.length - 1; i >= 0; i--) x = x.squeeze(ds[i]);
        return x;
    }

    private static Object unsqueeze(Node n, Env env, long opset) {
        Object v = env.get(n.inputs().get(0), "input");
        long[] axes = present(n, 1) ? constInts(n, env, 1) : attrInts(n, "axes", null);
        if (axes == null) throw new OnnxException(n.label() + ": axes are required");
        if (v instanceof Shape s) {
            if (!s.scalar() || axes.length != 1) throw unsupported(n, "unsqueezing a shape vector");
            return new Shape(s.dims(), false);
        }
        Tensor x = (Tensor) v;
        int outRank = x.dim() + axes.length;
        int[] ds = Arrays.stream(axes).mapToInt(a -> norm((int) a, outRank)).sorted().toArray();
        for (int d : ds) x = x.unsqueeze(d);
        return x;
    }

    private static Object concat(Node n, Env env) {
        boolean anyShape = false;
        for (String i : n.inputs()) if (!i.isEmpty() && env.get(i, "input") instanceof Shape) anyShape = true;
        if (anyShape) {
            List<SymInt> all = new ArrayList<>();
            for (String i : n.inputs()) {
                if (i.isEmpty()) continue;
                Object v = env.get(i, "input");
                SymInt[] d = symbols(n, env, v);
                if (d == null) {
                    // a -1 (inferred size) among the sizes: keep it as INFER
                    Tensor t = (Tensor) v;
                    if (!env.isConstant(t) || t.dim() > 1) throw unsupported(n, "concatenating sizes with a computed tensor");
                    for (long x : t.to(DType.INT64).contiguous().toLongArray()) all.add(x == -1 ? SymInt.INFER : SymInt.of(x));
                    continue;
                }
                all.addAll(Arrays.asList(d));
            }
            return new Shape(all.toArray(new SymInt[0]), false);
        }
        List<Tensor> ts = new ArrayList<>();
        for (int i = 0; i < n.inputs().size(); i++) if (present(n, i)) ts.add(in(n, env, i));
        int axis = norm((int) attrInt(n, "axis", 0), ts.get(0).dim());
        return Tensor.cat(ts, axis);
    }

    private static Object[] split(Node n, Env env, long opset) {
        Tensor x = x(n, env);
        int axis = norm((int) attrInt(n, "axis", 0), x.dim());
        int size = x.data().shape()[axis];
        long[] parts = present(n, 1) ? constInts(n, env, 1) : attrInts(n, "split", null);
        int outs = n.outputs().size();
        if (parts == null) {
            if (size % outs != 0) throw new OnnxException(n.label() + ": dim " + size + " does not split into " + outs + " equal parts");
            parts = new long[outs];
            Arrays.fill(parts, size / outs);
        }
        if (parts.length != outs) throw new OnnxException(n.label() + ": split has " + parts.length + " sizes for " + outs + " outputs");
        Object[] r = new Object[outs];
        int at = 0;
        for (int i = 0; i < outs; i++) {
            r[i] = x.narrow(axis, at, (int) parts[i]);
            at += parts[i];
        }
        if (at != size) throw new OnnxException(n.label() + ": split sizes sum to " + at + ", not the dim's " + size);
        return r;
    }

    private static Object slice(Node n, Env env) {
        Object v = env.get(n.inputs().get(0), "input");
        Object endsValue = env.get(n.inputs().get(2), "ends");
        if (endsValue instanceof Shape es && !es.isConcrete() && v instanceof Tensor data) return symbolicSlice(n, env, data, es);
        long[] starts = constInts(n, env, 1), ends = constInts(n, env, 2);
        long[] axes = present(n, 3) ? constInts(n, env, 3) : null, steps = present(n, 4) ? constInts(n, env, 4) : null;
        if (v instanceof Shape s) {
            if (axes != null && (axes.length != 1 || axes[0] != 0) || steps != null && steps[0] != 1) throw unsupported(n, "this slice of a shape vector");
            SymInt[] d = s.dims();
            int len = d.length;
            int a = (int) clampIndex(starts[0], len), b = (int) clampIndex(ends[0], len);
            return new Shape(Arrays.copyOfRange(d, a, Math.max(a, b)), false);
        }
        Tensor x = (Tensor) v;
        for (int i = 0; i < starts.length; i++) {
            int axis = norm(axes == null ? i : (int) axes[i], x.dim());
            long step = steps == null ? 1 : steps[i];
            if (step < 0) {
                if (starts[i] == -1 && ends[i] <= Integer.MIN_VALUE && step == -1) {
                    x = x.flip(axis);
                    continue;
                }
                throw unsupported(n, "a negative slice step other than a full reversal");
            }
            boolean toEnd = ends[i] >= Integer.MAX_VALUE;
            if (starts[i] == 0 && toEnd && step == 1) continue;
            int len = x.data().shape()[axis];
            int a = (int) clampIndex(starts[i], len);
            int b = toEnd ? Integer.MAX_VALUE : (int) clampIndex(ends[i], len);
            x = x.slice(axis, a, b, (int) step);
        }
        return x;
    }

    /**
     * x[start:T] for a symbolic T (attention's mask[:t, :t]): Kiln's slice takes numbers, so the
     * rows are picked with index_select over positions start..T-1 made by a cumulative sum, which
     * keeps T symbolic. The positions must lie inside the dim at run time (index_select checks it).
     */
    private static Tensor symbolicSlice(Node n, Env env, Tensor x, Shape ends) {
        long[] starts = constInts(n, env, 1);
        long[] axes = present(n, 3) ? constInts(n, env, 3) : null, steps = present(n, 4) ? constInts(n, env, 4) : null;
        for (int i = 0; i < starts.length; i++) {
            if (steps != null && steps[i] != 1) throw unsupported(n, "a stepped slice to a symbolic end");
            int axis = norm(axes == null ? i : (int) axes[i], x.dim());
            SymInt end = ends.dims()[i];
            if (!end.isSymbolic()) {
                int len = x.data().shape()[axis];
                x = x.slice(axis, (int) clampIndex(starts[i], len), (int) clampIndex(end.intValue(), len), 1);
                continue;
            }
            if (starts[i] != 0) throw unsupported(n, "a slice from " + starts[i] + " to the symbolic end " + end);
            Tensor positions = Tensor.scalar(1.0, DType.INT64).unsqueeze(0).expand(end).cumsum(0).sub(Tensor.scalar(1.0, DType.INT64));
            x = x.indexSelect(axis, positions);
        }
        return x;
    }

    private static long clampIndex(long i, long len) {
        long r = i < 0 ? i + len : i;
        return Math.max(0, Math.min(len, r));
    }

    private static Object gather(Node n, Env env) {
        Object v = env.get(n.inputs().get(0), "input");
        int axisAttr = (int) attrInt(n, "axis", 0);
        if (v instanceof Shape s) {
            long[] idx = constInts(n, env, 1);
            Tensor it = in(n, env, 1);
            SymInt[] d = s.dims();
            SymInt[] r = new SymInt[idx.length];
            for (int i = 0; i < idx.length; i++) r[i] = d[(int) (idx[i] < 0 ? idx[i] + d.length : idx[i])];
            return new Shape(r, it.dim() == 0);
        }
        Tensor x = (Tensor) v, idx = in(n, env, 1);
        int axis = norm(axisAttr, x.dim());
        if (env.isConstant(idx) && idx.dim() == 0) {
            // a negative index stays negative: select counts it from the end at run time, so a
            // dynamic dim is not pinned to this run's size
            return x.select(axis, (int) (long) idx.to(DType.INT64).item());
        }
        if (axis == 0 && x.dim() == 2 && !x.sizeSym(0).isSymbolic()) {
            // the embedding lookup exporters emit; ONNX allows negative indices, embedding does not
            idx = Tensor.where(idx.lt(0.0), idx.add((long) x.data().shape()[0]), idx);
            return F.embedding(idx, x);
        }
        if (idx.dim() == 1) return x.indexSelect(axis, idx); // index_select counts negative indices from the end
        throw unsupported(n, "Gather with " + idx.dim() + "-D indices on axis " + axis + " of a " + x.dim() + "-D tensor");
    }

    private static Tensor pad(Node n, Env env) {
        Tensor x = x(n, env);
        long[] p = constInts(n, env, 1);
        if (present(n, 3)) throw unsupported(n, "Pad's axes input");
        int r = x.dim();
        if (p.length != 2 * r) throw new OnnxException(n.label() + ": pads has " + p.length + " entries for a rank-" + r + " input");
        String mode = attrString(n, "mode", "constant");
        double value = present(n, 2) ? optScalar(n, env, 2) : 0.0;
        int[] kp = new int[2 * (r - Math.max(0, firstPadded(p, r)))];
        int first = firstPadded(p, r);
        if (first < 0) return x;
        for (int d = r - 1, k = 0; d >= first; d--, k++) {
            kp[2 * k] = (int) p[d];
            kp[2 * k + 1] = (int) p[d + r];
        }
        long[] outShape = new long[r];
        for (int d = 0; d < r; d++) outShape[d] = Math.max(0, x.data().shape()[d] + p[d] + p[d + r]);
        env.tensors.checkCreated(x.dtype(), outShape, n.label() + " output");
        String kmode = switch (mode) {
            case "constant" -> "constant";
            case "reflect" -> "reflect";
            case "edge" -> "replicate";
            default -> throw unsupported(n, "mode '" + mode + "'");
        };
        return x.pad(kp, kmode, value);
    }

    private static int firstPadded(long[] p, int r) {
        for (int d = 0; d < r; d++) if (p[d] != 0 || p[d + r] != 0) return d;
        return -1;
    }

    private static Tensor constant(Node n, Env env) {
        if (n.attributes().size() != 1) throw new OnnxException(n.label() + ": a Constant needs exactly one value attribute");
        Attribute a = n.attributes().values().iterator().next();
        return switch (a.name()) {
            case "value" -> {
                try {
                    yield Tensor.wrap(env.tensors.read(a.t(), n.label() + " value"));
                } catch (java.io.IOException e) {
                    throw new OnnxException(n.label() + ": " + e.getMessage(), e);
                }
            }
            case "value_float" -> Tensor.scalar(a.f(), DType.FLOAT32);
            case "value_floats" -> {
                float[] f = a.floats();
                yield Tensor.of(f, f.length);
            }
            case "value_int" -> Tensor.of(new long[] {a.i()}, new int[0]);
            case "value_ints" -> Tensor.of(a.ints(), a.ints().length);
            default -> throw unsupported(n, "Constant attribute '" + a.name() + "'");
        };
    }

    private static Tensor valueOf(Node n, Env env) {
        Attribute a = attr(n, "value");
        if (a == null) return Tensor.scalar(0.0, DType.FLOAT32);
        try {
            Tensor t = Tensor.wrap(env.tensors.read(a.t(), n.label() + " value"));
            return t.reshape(new int[0]);
        } catch (java.io.IOException e) {
            throw new OnnxException(n.label() + ": " + e.getMessage(), e);
        }
    }

    private static Tensor constantOfShape(Node n, Env env) {
        Tensor value = valueOf(n, env);
        Object v = env.get(n.inputs().get(0), "input");
        SymInt[] dims = v instanceof Shape s ? s.dims() : Arrays.stream(constInts(n, env, 0)).mapToObj(SymInt::of).toArray(SymInt[]::new);
        if (dims.length == 0) return value;
        boolean symbolic = Arrays.stream(dims).anyMatch(SymInt::isSymbolic);
        if (!symbolic) {
            env.tensors.checkCreated(value.dtype(), Arrays.stream(dims).mapToLong(SymInt::intValue).toArray(), n.label() + " output");
            int[] shape = Arrays.stream(dims).mapToInt(SymInt::intValue).toArray();
            Tensor t = Tensor.full(value.dtype(), value.to(DType.FLOAT64).item(), shape);
            env.markConstant(t);
            return t;
        }
        Tensor one = value;
        for (int i = 0; i < dims.length; i++) one = one.unsqueeze(0);
        return one.expand(dims[0], Arrays.copyOfRange(dims, 1, dims.length));
    }

    private static Tensor range(Node n, Env env) {
        Object lim = env.get(n.inputs().get(1), "limit");
        Tensor start = in(n, env, 0), delta = in(n, env, 2);
        if (!env.isConstant(start) || !env.isConstant(delta)) throw unsupported(n, "Range with a computed start or delta");
        DType t = start.dtype();
        if (lim instanceof Shape s && !s.isConcrete()) {
            // 0, 1, ..., T-1 for a symbolic T: a cumulative sum over T ones keeps T symbolic
            SymInt len = s.dims()[0];
            double st = start.to(DType.FLOAT64).item(), d = delta.to(DType.FLOAT64).item();
            if (st != 0 || d != 1) throw unsupported(n, "Range over a symbolic limit with start " + st + " and delta " + d);
            Tensor ones = Tensor.scalar(1.0, t).unsqueeze(0).expand(len);
            return ones.cumsum(0).sub(Tensor.scalar(1.0, t));
        }
        double a = start.to(DType.FLOAT64).item(), b = lim instanceof Shape s ? s.values()[0] : in(n, env, 1).to(DType.FLOAT64).item(), d = delta.to(DType.FLOAT64).item();
        if (d == 0) throw new OnnxException(n.label() + ": delta is 0");
        double count = Math.max(0, Math.ceil((b - a) / d));
        if (!(count <= Integer.MAX_VALUE)) throw new OnnxException(n.label() + ": a range of " + count + " elements");
        env.tensors.checkCreated(t, new long[] {(long) count}, n.label() + " output");
        Tensor r = t.isFloatingPoint() ? Tensor.arange(a, b, d).to(t) : Tensor.arange((long) a, (long) b, (long) d);
        env.markConstant(r);
        return r;
    }
}
