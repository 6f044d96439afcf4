package dev.kiln.eager;


import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.ShapeException;
import dev.kiln.backend.shape.Shapes;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.eager.autograd.AccumulateGrad;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.autograd.GradMode;
import dev.kiln.eager.autograd.Node;
import dev.kiln.eager.autograd.NodeHooks;
import dev.kiln.eager.random.Generator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * An n-dimensional array with autograd: a strided view over shared storage. Every operation
 * goes through {@link Dispatcher#apply}; composite operations (mean, var, softmax-based losses,
 * ...) are written here from primitives, so they get gradients and tracing for free.
 */
public final class Tensor {
    private final Strided data;
    private boolean requiresGrad;
    private Tensor grad;
    private Node gradFn;
    private AccumulateGrad accumulator;
    /** For views: the tensor whose storage this one shares (in-place safety checks). */
    private Tensor viewBase;
    /** Where ops on this tensor run; the data itself is always readable on the host. */
    private Device device = Device.cpu();
    /**
     * The type, built on first use: a tensor's dtype and shape never change, and the dispatcher
     * asks for it on every op the tensor enters (building Dim arrays was ~20% of a small op).
     */
    private TensorType type;

    Tensor(Strided data) { this.data = data; }

    /** Wraps backend data (no copy). */
    public static Tensor wrap(Strided data) { return new Tensor(data); }

    /**
     * Wraps each value of a name-to-data map, in order (no copy): what a weights file reader
     * returns, ready for {@code Module.loadStateDict}.
     */
    public static Map<String, Tensor> wrapAll(Map<String, Strided> data) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        data.forEach((k, v) -> out.put(k, wrap(v)));
        return out;
    }

    /** A tensor on device d over data that d computed (a compiled graph's output on a GPU). */
    public static Tensor wrap(Strided data, Device d) {
        Tensor t = new Tensor(data);
        t.setDevice(d);
        return t;
    }

    // =====================================================================================
    // creation
    // =====================================================================================

    public static Tensor of(float[] values, int... shape) { return fromStorage(Storage.wrap(values.clone()), values.length, shape); }

    public static Tensor of(double[] values, int... shape) { return fromStorage(Storage.wrap(values.clone()), values.length, shape); }

    public static Tensor of(long[] values, int... shape) { return fromStorage(Storage.wrap(values.clone()), values.length, shape); }

    public static Tensor of(boolean[] values, int... shape) { return fromStorage(Storage.wrap(values.clone()), values.length, shape); }

    /** 1-D tensor of the values (shape omitted) or the given shape. */
    private static Tensor fromStorage(Storage s, int n, int[] shape) {
        int[] sh = shape.length == 0 && n != 1 ? new int[] {n} : shape;
        for (int d : sh) if (d < 0) throw new ShapeException("Tensor.of: negative dimension in shape " + Arrays.toString(sh));
        if (Shapes.numel(sh) != n) {
            throw new ShapeException("Tensor.of: " + n + " values do not fill shape " + Arrays.toString(sh) + " (" + Shapes.numel(sh) + " elements)");
        }
        return new Tensor(Strided.contiguous(s, sh.clone()));
    }

    /** A 0-d float32 tensor. */
    public static Tensor scalar(double v) { return full(DType.FLOAT32, v); }

    public static Tensor scalar(double v, DType dtype) { return full(dtype, v); }

    public static Tensor zeros(int... shape) { return full(DType.FLOAT32, 0, shape); }

    public static Tensor zeros(DType dtype, int... shape) { return full(dtype, 0, shape); }

    public static Tensor ones(int... shape) { return full(DType.FLOAT32, 1, shape); }

    public static Tensor ones(DType dtype, int... shape) { return full(dtype, 1, shape); }

    public static Tensor full(double value, int... shape) { return full(DType.FLOAT32, value, shape); }

    public static Tensor full(DType dtype, double value, int... shape) {
        for (int d : shape) if (d < 0) throw new ShapeException("full: negative dimension in shape " + Arrays.toString(shape));
        Strided s = Strided.allocate(dtype, shape.clone());
        if (value != 0) dev.kiln.backend.cpu.Copy.fill(s, value);
        return new Tensor(s);
    }

    /** Uninitialized in PyTorch; zero-filled here (the JVM zeroes arrays anyway). */
    public static Tensor empty(int... shape) { return zeros(shape); }

    public static Tensor empty(DType dtype, int... shape) { return zeros(dtype, shape); }

    public static Tensor zerosLike(Tensor t) { return Dispatcher.apply(Op.FULL_LIKE, Attrs.of("value", 0.0), t); }

    public static Tensor onesLike(Tensor t) { return Dispatcher.apply(Op.FULL_LIKE, Attrs.of("value", 1.0), t); }

    public static Tensor fullLike(Tensor t, double value) { return Dispatcher.apply(Op.FULL_LIKE, Attrs.of("value", value), t); }

    public static Tensor emptyLike(Tensor t) { return zerosLike(t); }

    /** 0, 1, ..., end-1 as int64. */
    public static Tensor arange(long end) { return arange(0, end, 1); }

    public static Tensor arange(long start, long end, long step) {
        if (step == 0) throw new IllegalArgumentException("arange: step must be nonzero");
        long n = Math.max(0, (end - start + step + (step > 0 ? -1 : 1)) / step);
        long[] v = new long[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) v[i] = start + i * step;
        return of(v, v.length);
    }

    /**
     * {@code value} in every element of a tensor whose sizes may be symbolic in a trace
     * ({@link #sizeSym}): a scalar expanded to the shape, so the graph records the sizes as
     * symbols (zeros(B, T) serves every batch and length) rather than this run's numbers. The
     * result is materialized (a copy of the broadcast), so in-place writes are safe.
     */
    public static Tensor full(DType dtype, double value, SymInt size0, SymInt... more) {
        SymInt[] shape = join(size0, more);
        for (SymInt s : shape) {
            if (s == SymInt.INFER) throw new IllegalArgumentException("full: every size must be given (INFER has nothing to infer from)");
        }
        int[] ones = new int[shape.length];
        Arrays.fill(ones, 1);
        return full(dtype, value, ones).expand(size0, more).contiguous();
    }

    public static Tensor zeros(SymInt size0, SymInt... more) { return full(DType.FLOAT32, 0, size0, more); }

    public static Tensor ones(SymInt size0, SymInt... more) { return full(DType.FLOAT32, 1, size0, more); }

    /**
     * 0, 1, ..., n-1 as i64, where n may be symbolic in a trace: a cumulative sum over n ones, so
     * the graph computes the range at run time instead of baking this run's n into a constant.
     */
    public static Tensor arange(SymInt n) { return full(DType.INT64, 1, n).cumsum(0).sub(1L); }

    /** Float range [start, end) with step, float32. */
    public static Tensor arange(double start, double end, double step) {
        if (step == 0) throw new IllegalArgumentException("arange: step must be nonzero");
        int n = (int) Math.max(0, Math.ceil((end - start) / step));
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (start + i * step);
        return of(v, n);
    }

    public static Tensor linspace(double start, double end, int steps) {
        if (steps < 0) throw new IllegalArgumentException("linspace: steps must be non-negative, got " + steps);
        float[] v = new float[steps];
        double step = steps > 1 ? (end - start) / (steps - 1) : 0;
        // PyTorch fills the second half from the end, so the last value is exactly `end`
        int half = steps / 2;
        for (int i = 0; i < steps; i++) v[i] = (float) (i < half ? start + step * i : end - step * (steps - 1 - i));
        return of(v, steps);
    }

    public static Tensor eye(int n) { return eye(n, n); }

    public static Tensor eye(int n, int m) {
        float[] v = new float[n * m];
        for (int i = 0; i < Math.min(n, m); i++) v[i * m + i] = 1;
        return of(v, n, m);
    }

    /** Uniform [0, 1) float32 from the default generator ({@code Kiln.manualSeed}). */
    public static Tensor rand(int... shape) {
        double[] u = Generator.defaultGenerator().uniform(Shapes.numelInt(shape), 0, 1);
        float[] f = new float[u.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) u[i];
        return of(f, shape);
    }

    public static Tensor randn(int... shape) {
        double[] u = Generator.defaultGenerator().normal(Shapes.numelInt(shape), 0, 1);
        float[] f = new float[u.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) u[i];
        return of(f, shape);
    }

    /** Integers in [low, high) as int64. */
    public static Tensor randint(long low, long high, int... shape) {
        return of(Generator.defaultGenerator().integers(Shapes.numelInt(shape), low, high), shape);
    }

    public static Tensor randperm(int n) {
        int[] p = Generator.defaultGenerator().permutation(n);
        long[] v = new long[n];
        for (int i = 0; i < n; i++) v[i] = p[i];
        return of(v, n);
    }

    // =====================================================================================
    // metadata and data access
    // =====================================================================================

    /** Backend view of the data (for kernels, the tracer and serialization). */
    public Strided data() { return data; }

    /**
     * The sizes as Java ints. During a trace a dim that is symbolic in the graph (a dynamic batch
     * or sequence length) read this way is reported to the tracer: an error in strict mode, a
     * guard in lenient mode, since Java code computing with it would bake this run's size into
     * the graph. Library code that only passes sizes through reads {@code data().shape()}.
     */
    public int[] shape() {
        notifyShapeRead(null, "shape()");
        return data.shape().clone();
    }

    /** Size of dim d (negative counts from the end); reported to a tracer as {@link #shape()} is. */
    public int shape(int d) {
        int nd = Shapes.normDim("shape", d, dim());
        notifyShapeRead(new int[] {nd}, "shape(" + d + ")");
        return data.shape()[nd];
    }

    public int size(int d) {
        int nd = Shapes.normDim("size", d, dim());
        notifyShapeRead(new int[] {nd}, "size(" + d + ")");
        return data.shape()[nd];
    }

    /**
     * Dim d as a size that stays symbolic in a trace ({@link SymInt}): pass it, or sizes computed
     * from it, to {@link #reshape(SymInt, SymInt...)}, {@link #view(SymInt, SymInt...)} or {@link #expand(SymInt, SymInt...)}
     * instead of reading {@link #shape(int)} into an int. Outside a trace it is just the number.
     */
    public SymInt sizeSym(int d) {
        int nd = Shapes.normDim("sizeSym", d, dim());
        OpObserver o = Dispatcher.observer();
        dev.kiln.backend.shape.Dim sym = o == null ? null : o.symbolicDim(this, nd);
        long v = data.shape()[nd];
        return new SymInt(v, sym != null ? sym : dev.kiln.backend.shape.Dim.of(v));
    }

    public int[] strides() { return data.strides().clone(); }

    public int dim() { return data.rank(); }

    /** The element count; reported to a tracer as a read of every dim (see {@link #shape()}). */
    public int numel() {
        notifyShapeRead(null, "numel()");
        return data.numel();
    }

    public DType dtype() { return data.dtype(); }

    public boolean isContiguous() { return data.isContiguous(); }

    /** Version counter of the storage, bumped by in-place writes. */
    public int version() { return data.storage().version(); }

    /** {@code f32[2,3]}: the form used in error messages. */
    public String typeString() { return dtype().shortName() + Shapes.toString(data.shape()); }

    public TensorType type() {
        TensorType t = type;
        if (t == null) type = t = new TensorType(dtype(), Dim.of(data.shape()));
        return t;
    }

    /** The single value of a one-element tensor, as double. */
    public double item() {
        if (data.numel() != 1) throw new IllegalStateException("item(): a Tensor with " + data.numel() + " elements cannot be converted to a scalar (" + typeString() + ")");
        notifyRead("item()");
        return data.storage().getDouble(data.indexOf(0));
    }

    public boolean itemBool() { return item() != 0; }

    public long itemLong() {
        if (data.numel() != 1) throw new IllegalStateException("itemLong(): a Tensor with " + data.numel() + " elements cannot be converted to a scalar (" + typeString() + ")");
        notifyRead("itemLong()");
        return data.storage().getLong(data.indexOf(0));
    }

    public float[] toFloatArray() {
        notifyRead("toFloatArray()");
        return dev.kiln.backend.cpu.Copy.toContiguous(data, DType.FLOAT32).storage().f32();
    }

    public double[] toDoubleArray() {
        notifyRead("toDoubleArray()");
        return dev.kiln.backend.cpu.Copy.toContiguous(data, DType.FLOAT64).storage().f64();
    }

    public long[] toLongArray() {
        notifyRead("toLongArray()");
        return dev.kiln.backend.cpu.Copy.toContiguous(data, DType.INT64).storage().i64();
    }

    public boolean[] toBooleanArray() {
        notifyRead("toBooleanArray()");
        return dev.kiln.backend.cpu.Copy.toContiguous(data, DType.BOOL).storage().bool();
    }

    /** Element at a flat row-major position, as double (for tests and gradcheck). */
    public double getFlat(int i) { return data.storage().getDouble(data.indexOf(i)); }

    /** Writes one element in place (bumps the version). */
    public void setFlat(int i, double v) {
        checkInPlaceAllowed("setFlat");
        data.storage().setDouble(data.indexOf(i), v);
        bump();
    }

    private void notifyRead(String what) {
        OpObserver o = Dispatcher.observer();
        if (o != null) o.onRead(this, what);
    }

    /** dims null: all of them. */
    private void notifyShapeRead(int[] dims, String what) {
        OpObserver o = Dispatcher.observer();
        if (o != null) o.onShapeRead(this, dims, what);
    }

    // =====================================================================================
    // autograd
    // =====================================================================================

    public boolean requiresGrad() { return requiresGrad; }

    /** Marks a leaf as requiring grad; returns this for chaining. */
    public Tensor requiresGrad(boolean on) {
        if (gradFn != null && !on) {
            throw new IllegalStateException("requiresGrad(false): " + gradFn.name() + " output is not a leaf; use detach() instead");
        }
        if (on && !dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("requiresGrad: only floating-point tensors can require gradients, got " + typeString());
        }
        requiresGrad = on;
        return this;
    }

    public Tensor grad() { return grad; }

    /** Sets (or clears, with null) the accumulated gradient. */
    public void setGrad(Tensor g) {
        if (g != null && !Arrays.equals(g.data.shape(), data.shape())) {
            throw new IllegalArgumentException("setGrad: gradient " + g.typeString() + " does not match tensor " + typeString());
        }
        grad = g;
    }

    public Node gradFn() { return gradFn; }

    /** Internal: set by the dispatcher and custom Functions. */
    public void setGradFn(Node n) {
        gradFn = n;
        requiresGrad = n != null || requiresGrad;
    }

    void setViewBase(Tensor input) { viewBase = input.viewBase != null ? input.viewBase : input; }

    /** True for tensors not produced by a recorded op (user-created or detached). */
    public boolean isLeaf() { return gradFn == null; }

    /** The AccumulateGrad node of a leaf that requires grad (created on first use). */
    public AccumulateGrad gradAccumulator() {
        if (!requiresGrad || gradFn != null) return null;
        if (accumulator == null) accumulator = NodeHooks.newAccumulator(this);
        return accumulator;
    }

    /** Keep {@code grad()} on this non-leaf after backward. */
    public Tensor retainGrad() {
        if (!requiresGrad) throw new IllegalStateException("retainGrad: can't retain the grad of a tensor that does not require grad");
        if (gradFn == null) return this;
        NodeHooks.retain(gradFn, this);
        return this;
    }

    /** Backward from a scalar. */
    public void backward() { backward(null, false, false); }

    public void backward(Tensor gradient) { backward(gradient, false, false); }

    public void backward(Tensor gradient, boolean retainGraph, boolean createGraph) {
        Tensor g = gradient;
        if (g == null) {
            if (data.numel() != 1) {
                throw new IllegalStateException("backward(): grad can be implicitly created only for scalar outputs, got "
                        + typeString() + "; call backward(gradient) with a tensor of that shape");
            }
            g = onesLike(this);
        } else if (!Arrays.equals(g.data.shape(), data.shape())) {
            throw new IllegalArgumentException("backward: gradient " + g.typeString() + " does not match output " + typeString());
        }
        Autograd.backward(this, g, retainGraph, createGraph);
    }

    /** A tensor sharing storage but cut from the graph. */
    public Tensor detach() {
        // shares storage (and so the version counter) but is no autograd view: writing it in
        // place is allowed, as p.detach().sub_(...) is in PyTorch; it stays on this tensor's device
        Tensor t = new Tensor(data);
        t.device = device;
        // a tracer must know the alias is the same value: otherwise ops on it (a gradient-norm
        // clip, batch norm's running statistics) would capture this run's values as a constant
        OpObserver o = Dispatcher.observer();
        if (o != null) o.onAlias(this, t);
        return t;
    }

    /** Cuts this tensor from the graph in place, making it a leaf. */
    public Tensor detach_() {
        gradFn = null;
        requiresGrad = false;
        return this;
    }

    /**
     * Registers a hook called with this tensor's gradient during backward; it may return a
     * replacement (or null to keep it). Close the handle to remove the hook.
     */
    public HookHandle registerHook(UnaryOperator<Tensor> hook) {
        if (!requiresGrad) throw new IllegalStateException("registerHook: cannot register a hook on a tensor that does not require grad");
        Node n = gradFn != null ? gradFn : gradAccumulator();
        return NodeHooks.addPreHook(n, hook);
    }

    /** Runs after the gradient was accumulated into this leaf's {@code grad()}. */
    public HookHandle registerPostAccumulateGradHook(Consumer<Tensor> hook) {
        if (gradFn != null || !requiresGrad) throw new IllegalStateException("registerPostAccumulateGradHook: only leaves that require grad have one");
        return NodeHooks.addPostHook(gradAccumulator(), hook);
    }

    // =====================================================================================
    // unary elementwise
    // =====================================================================================

    private Tensor unary(Op op) { return Dispatcher.apply(op, Attrs.EMPTY, this); }

    public Tensor neg() { return unary(Op.NEG); }
    public Tensor abs() { return unary(Op.ABS); }
    public Tensor sign() { return unary(Op.SIGN); }
    public Tensor exp() { return unary(Op.EXP); }
    public Tensor log() { return unary(Op.LOG); }
    public Tensor log1p() { return unary(Op.LOG1P); }
    public Tensor expm1() { return unary(Op.EXPM1); }
    public Tensor sqrt() { return unary(Op.SQRT); }
    public Tensor rsqrt() { return unary(Op.RSQRT); }
    public Tensor reciprocal() { return unary(Op.RECIPROCAL); }
    public Tensor sin() { return unary(Op.SIN); }
    public Tensor cos() { return unary(Op.COS); }
    public Tensor tanh() { return unary(Op.TANH); }
    public Tensor sigmoid() { return unary(Op.SIGMOID); }
    public Tensor relu() { return unary(Op.RELU); }
    public Tensor silu() { return unary(Op.SILU); }
    public Tensor erf() { return unary(Op.ERF); }
    public Tensor floor() { return unary(Op.FLOOR); }
    public Tensor ceil() { return unary(Op.CEIL); }
    public Tensor round() { return unary(Op.ROUND); }
    public Tensor logicalNot() { return unary(Op.LOGICAL_NOT); }

    /** Exact GELU (erf form). */
    public Tensor gelu() { return gelu("none"); }

    /** GELU with {@code approximate} "none" or "tanh". */
    public Tensor gelu(String approximate) { return Dispatcher.apply(Op.GELU, Attrs.of("approximate", approximate), this); }

    /**
     * PyTorch's gelu_backward: this gradient of gelu's output, at {@code input}, taken back to the
     * input: this * gelu'(input), the exact (erf) gelu's derivative, in one pass.
     */
    public Tensor geluBackward(Tensor input) { return Dispatcher.apply(Op.GELU_BACKWARD, Attrs.EMPTY, this, input); }

    /** x * x; bool squares to int64 as in PyTorch (pow promotes bool). */
    public Tensor square() { return dtype() == DType.BOOL ? to(DType.INT64).mul(this) : mul(this); }

    /** Bounds may be null (absent). */
    public Tensor clamp(Double min, Double max) { return Dispatcher.apply(Op.CLAMP, Attrs.of("min", min, "max", max), this); }

    public Tensor clamp(double min, double max) { return clamp(Double.valueOf(min), Double.valueOf(max)); }

    public Tensor clampMin(double min) { return clamp(min, null); }

    public Tensor clampMax(double max) { return clamp(null, max); }

    public Tensor isnan() { return ne(this); }

    public Tensor isfinite() {
        if (!dtype().isFloatingPoint()) return fullLike(this, 1).to(DType.BOOL);
        return abs().lt(Double.POSITIVE_INFINITY);
    }

    public Tensor isinf() { return abs().eq(Double.POSITIVE_INFINITY); }

    /** Converts to another dtype (a no-op returning this when the dtype already matches). */
    public Tensor to(DType t) { return t == dtype() ? this : Dispatcher.apply(Op.CAST, Attrs.of("dtype", t), this); }

    /** The device this tensor's ops run on. */
    public Device device() { return device; }

    void setDevice(Device d) { this.device = d; }

    /**
     * A copy whose ops run on device d (this tensor when it is already there), as PyTorch's
     * {@code x.to(device)}: with grad mode on and this tensor requiring grad, the copy is a
     * non-leaf whose gradFn ({@code ToDeviceBackward}) sends its gradient back to this tensor's
     * device, so gradients flow across the move; otherwise the copy does not require grad. An
     * unusable device fails before any copy ({@link Device#checkAvailable}). The copy goes
     * through the dispatcher as a {@code clone}; the device change is reported to the observer
     * (the tracer) with {@link OpObserver#onDeviceMove}, since graphs carry no devices.
     */
    public Tensor to(Device d) {
        if (d.equals(device)) return this;
        d.checkAvailable();
        Tensor r;
        try (var ignored = Autograd.noGrad()) {
            r = Dispatcher.apply(Op.CLONE, Attrs.EMPTY, this);
        }
        r.setDevice(d);
        if (requiresGrad && GradMode.isEnabled()) dev.kiln.eager.autograd.ToDeviceBackward.record(this, r);
        OpObserver o = Dispatcher.observer();
        if (o != null) o.onDeviceMove(this, r);
        return r;
    }

    /**
     * Internal (for {@code Module.to(Device)}; user code wants {@link #to(Device)}): moves this
     * leaf to device d in place, as PyTorch's {@code module.to()} swaps {@code param.data}. The
     * same Tensor object stays where it is registered (modules, optimizers, user fields), keeping
     * requiresGrad, hooks and its grad accumulator; its gradient moves with it. The storage is not
     * copied here (a Storage copies its contents between host and device on first use where they
     * are needed): ops on this tensor now run on d, and tensors sharing the storage (views,
     * detach()) keep their own device but see later writes, where PyTorch would have left them
     * the old copy. The version is bumped, so a graph recorded before the move refuses to run
     * backward through it. A no-op when the tensor is already on d.
     *
     * @throws IllegalStateException for a non-leaf (its gradFn would keep sending gradients from
     *     the old device), or, before anything changes, when d cannot be used here
     */
    public Tensor moveTo_(Device d) {
        if (d.equals(device)) {
            if (grad != null && grad.gradFn == null) grad.moveTo_(d);
            return this;
        }
        d.checkAvailable();
        if (gradFn != null) {
            throw new IllegalStateException("moveTo_(" + d + "): this tensor is the output of " + gradFn.name() + ", not a leaf; "
                    + "only leaves (parameters, buffers) move in place; use to(device), which records the move, or detach() first");
        }
        if (grad != null && grad.gradFn == null) {
            grad.moveTo_(d);
        } else if (grad != null) {
            try (var ignored = Autograd.noGrad()) {
                grad = grad.to(d); // a create_graph gradient: moved as a copy, without its history
            }
        }
        device = d;
        bump();
        return this;
    }

    public Tensor clone() { return unary(Op.CLONE); }

    /** This tensor when contiguous, else a contiguous copy. */
    public Tensor contiguous() { return isContiguous() ? this : clone(); }

    // =====================================================================================
    // binary elementwise
    // =====================================================================================

    /** A 0-d operand for a Java number: same category rules as PyTorch's wrapped scalars. */
    private Tensor scalarOperand(double v) {
        return full(dtype().isFloatingPoint() ? dtype() : DType.FLOAT32, v);
    }

    private Tensor scalarOperand(long v) {
        return full(dtype().isFloatingPoint() ? dtype() : DType.INT64, v);
    }

    private Tensor binary(Op op, Tensor o) { return Dispatcher.apply(op, Attrs.EMPTY, this, o); }

    public Tensor add(Tensor o) { return binary(Op.ADD, o); }
    public Tensor add(double v) { return binary(Op.ADD, scalarOperand(v)); }
    public Tensor add(long v) { return binary(Op.ADD, scalarOperand(v)); }
    /** this + alpha * o. */
    /** this + alpha * o; alpha 1 (SGD's undampened momentum) skips the multiply, which is exact. */
    public Tensor add(Tensor o, double alpha) { return add(alpha == 1 ? o : o.mul(alpha)); }
    public Tensor sub(Tensor o) { return binary(Op.SUB, o); }
    public Tensor sub(double v) { return binary(Op.SUB, scalarOperand(v)); }
    public Tensor sub(long v) { return binary(Op.SUB, scalarOperand(v)); }
    /** v - this. */
    public Tensor rsub(double v) { return scalarOperand(v).sub(this); }
    public Tensor mul(Tensor o) { return binary(Op.MUL, o); }
    public Tensor mul(double v) { return binary(Op.MUL, scalarOperand(v)); }
    public Tensor mul(long v) { return binary(Op.MUL, scalarOperand(v)); }
    public Tensor div(Tensor o) { return binary(Op.DIV, o); }
    public Tensor div(double v) { return binary(Op.DIV, scalarOperand(v)); }
    public Tensor pow(Tensor o) { return binary(Op.POW, o); }
    public Tensor pow(double v) { return binary(Op.POW, scalarOperand(v)); }
    public Tensor pow(long v) { return binary(Op.POW, scalarOperand(v)); }
    public Tensor maximum(Tensor o) { return binary(Op.MAXIMUM, o); }
    public Tensor minimum(Tensor o) { return binary(Op.MINIMUM, o); }
    public Tensor eq(Tensor o) { return binary(Op.EQ, o); }
    public Tensor eq(double v) { return binary(Op.EQ, scalarOperand(v)); }
    public Tensor ne(Tensor o) { return binary(Op.NE, o); }
    public Tensor ne(double v) { return binary(Op.NE, scalarOperand(v)); }
    public Tensor lt(Tensor o) { return binary(Op.LT, o); }
    public Tensor lt(double v) { return binary(Op.LT, scalarOperand(v)); }
    public Tensor le(Tensor o) { return binary(Op.LE, o); }
    public Tensor le(double v) { return binary(Op.LE, scalarOperand(v)); }
    public Tensor gt(Tensor o) { return binary(Op.GT, o); }
    public Tensor gt(double v) { return binary(Op.GT, scalarOperand(v)); }
    public Tensor ge(Tensor o) { return binary(Op.GE, o); }
    public Tensor ge(double v) { return binary(Op.GE, scalarOperand(v)); }
    public Tensor logicalAnd(Tensor o) { return binary(Op.LOGICAL_AND, o); }
    public Tensor logicalOr(Tensor o) { return binary(Op.LOGICAL_OR, o); }
    public Tensor logicalXor(Tensor o) { return binary(Op.LOGICAL_XOR, o); }

    /** cond ? a : b, broadcasting. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) { return Dispatcher.apply(Op.WHERE, Attrs.EMPTY, cond, a, b); }

    /** cond ? this : other (torch.Tensor.where). */
    public Tensor where(Tensor cond, Tensor other) { return where(cond, this, other); }

    /** Elements where mask is true replaced by value. */
    public Tensor maskedFill(Tensor mask, double value) { return where(mask, scalarOperand(value).to(dtype()), this); }

    // =====================================================================================
    // reductions
    // =====================================================================================

    private Tensor reduce(Op op, int[] dims, boolean keepdim) { return Dispatcher.apply(op, Attrs.of("dims", dims, "keepdim", keepdim), this); }

    private static final int[] ALL = new int[0];

    public Tensor sum() { return reduce(Op.SUM, ALL, false); }
    public Tensor sum(int dim) { return reduce(Op.SUM, new int[] {dim}, false); }
    public Tensor sum(int[] dims, boolean keepdim) { return reduce(Op.SUM, dims, keepdim); }
    public Tensor prod() { return reduce(Op.PROD, ALL, false); }
    public Tensor prod(int[] dims, boolean keepdim) { return reduce(Op.PROD, dims, keepdim); }
    public Tensor amax() { return reduce(Op.AMAX, ALL, false); }
    public Tensor amax(int[] dims, boolean keepdim) { return reduce(Op.AMAX, dims, keepdim); }
    public Tensor amin() { return reduce(Op.AMIN, ALL, false); }
    public Tensor amin(int[] dims, boolean keepdim) { return reduce(Op.AMIN, dims, keepdim); }
    public Tensor all() { return reduce(Op.ALL, ALL, false); }
    public Tensor all(int[] dims, boolean keepdim) { return reduce(Op.ALL, dims, keepdim); }
    public Tensor any() { return reduce(Op.ANY, ALL, false); }
    public Tensor any(int[] dims, boolean keepdim) { return reduce(Op.ANY, dims, keepdim); }

    public Tensor mean() { return mean(ALL, false); }

    public Tensor mean(int dim) { return mean(new int[] {dim}, false); }

    public Tensor mean(int[] dims, boolean keepdim) {
        if (!dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("mean: expected a floating-point tensor, got " + typeString() + " (cast it with to(DType.FLOAT32))");
        }
        return sum(dims, keepdim).div(size(dims).to(dtype()));
    }

    /**
     * The number of elements spanned by dims (all when empty) as a 0-d i64 tensor. Unlike
     * a Java int read from shape(), it stays correct when the code is traced with a symbolic
     * batch, so composites divide by it.
     */
    public Tensor size(int... dims) { return Dispatcher.apply(Op.SIZE, Attrs.of("dims", dims), this); }

    /** Variance with Bessel-style {@code correction} (1 = unbiased, PyTorch's default). */
    public Tensor var(int[] dims, int correction, boolean keepdim) {
        Tensor centered = sub(mean(dims, true));
        Tensor denom = size(dims).sub((long) correction).clampMin(0).to(dtype());
        return centered.mul(centered).sum(dims, keepdim).div(denom);
    }

    public Tensor var() { return var(ALL, 1, false); }

    /** sqrt(var); a zero variance gets gradient 0 (as PyTorch), not the NaN of sqrt's inf times 0. */
    public Tensor std(int[] dims, int correction, boolean keepdim) {
        Tensor v = var(dims, correction, keepdim);
        return where(v.eq(0.0), zerosLike(v), v).sqrt();
    }

    public Tensor std() { return std(ALL, 1, false); }

    /** log(sum(exp(x))) over dims, stable for large magnitudes (the max is subtracted first). */
    public Tensor logsumexp(int[] dims, boolean keepdim) {
        if (!dtype().isFloatingPoint()) return to(DType.FLOAT32).logsumexp(dims, keepdim);
        Tensor m;
        try (var ng = Autograd.noGrad()) {
            // an empty reduction has no max; its sum of exps is 0 and the result -inf, as PyTorch
            m = data.numel() == 0 ? sum(dims, true) : amax(dims, true);
            m = where(m.isinf(), zerosLike(m), m); // all -inf rows: avoid -inf - -inf
        }
        Tensor r = sub(m).exp().sum(dims, true).log().add(m);
        if (!keepdim) r = r.squeezeDims(dev.kiln.backend.op.ShapeRules.reductionDims("logsumexp", dim(), dims));
        return r;
    }

    /** Max over the whole tensor (same as {@code amax()}). */
    public Tensor max() { return amax(); }

    public Tensor min() { return amin(); }

    /** Values and indices of the max along dim (first index among ties). */
    public ValuesIndices max(int dim, boolean keepdim) {
        Tensor idx = argmax(dim, true);
        Tensor values = gather(dim, idx);
        if (!keepdim) return new ValuesIndices(values.squeeze(dim), idx.squeeze(dim));
        return new ValuesIndices(values, idx);
    }

    public ValuesIndices min(int dim, boolean keepdim) {
        Tensor idx = argmin(dim, true);
        Tensor values = gather(dim, idx);
        if (!keepdim) return new ValuesIndices(values.squeeze(dim), idx.squeeze(dim));
        return new ValuesIndices(values, idx);
    }

    public Tensor argmax() { return Dispatcher.apply(Op.ARGMAX, Attrs.of("keepdim", false), this); }
    public Tensor argmax(int dim, boolean keepdim) { return Dispatcher.apply(Op.ARGMAX, Attrs.of("dim", dim, "keepdim", keepdim), this); }
    public Tensor argmin() { return Dispatcher.apply(Op.ARGMIN, Attrs.of("keepdim", false), this); }
    public Tensor argmin(int dim, boolean keepdim) { return Dispatcher.apply(Op.ARGMIN, Attrs.of("dim", dim, "keepdim", keepdim), this); }
    public Tensor cumsum(int dim) { return Dispatcher.apply(Op.CUMSUM, Attrs.of("dim", dim), this); }
    public Tensor softmax(int dim) { return Dispatcher.apply(Op.SOFTMAX, Attrs.of("dim", dim), this); }
    public Tensor logSoftmax(int dim) { return Dispatcher.apply(Op.LOG_SOFTMAX, Attrs.of("dim", dim), this); }

    /** Sums a broadcast gradient back down to {@code shape} (leading dims and size-1 dims). */
    public Tensor sumToShape(int[] shape) {
        int[] s = data.shape();
        if (Arrays.equals(s, shape)) return this;
        int lead = s.length - shape.length;
        if (lead < 0) throw new ShapeException("sumToShape: cannot sum " + typeString() + " to the larger shape " + Arrays.toString(shape));
        List<Integer> dims = new ArrayList<>();
        for (int i = 0; i < s.length; i++) {
            if (i < lead || (shape[i - lead] == 1 && s[i] != 1)) dims.add(i);
        }
        Tensor r = dims.isEmpty() ? this : sum(dims.stream().mapToInt(Integer::intValue).toArray(), true);
        // the summed leading dims are 1 now: squeezed, not reshaped to sizes, so a traced
        // backward keeps every other dim symbolic
        if (lead > 0) {
            int[] leading = new int[lead];
            for (int i = 0; i < lead; i++) leading[i] = i;
            r = r.squeezeDims(leading);
        }
        return r;
    }

    /**
     * Reshape to {@code other}'s shape (torch.Tensor.reshape_as), its sizes taken as
     * {@link SymInt}s: in a trace every dynamic dim of {@code other} stays symbolic.
     */
    public Tensor reshapeAs(Tensor other) {
        int r = other.dim();
        if (r == 0) return reshape(new int[0]);
        SymInt[] s = new SymInt[r];
        for (int d = 0; d < r; d++) s[d] = other.sizeSym(d);
        return reshape(s[0], Arrays.copyOfRange(s, 1, r));
    }

    // =====================================================================================
    // linear algebra
    // =====================================================================================

    public Tensor matmul(Tensor o) { return Dispatcher.apply(Op.MATMUL, Attrs.EMPTY, this, o); }

    /** 2-D matrix product. */
    public Tensor mm(Tensor o) {
        if (dim() != 2 || o.dim() != 2) throw new ShapeException("mm: expected 2-D matrices, got " + typeString() + " and " + o.typeString());
        return matmul(o);
    }

    /** bias + a @ b (the fused GEMM + bias). */
    public static Tensor addmm(Tensor bias, Tensor a, Tensor b) { return Dispatcher.apply(Op.ADDMM, Attrs.EMPTY, bias, a, b); }

    /** Transpose of a matrix (rank <= 2). */
    public Tensor t() {
        if (dim() > 2) throw new ShapeException("t: expects a tensor with <= 2 dims, got " + typeString() + " (use transpose(d0, d1))");
        return dim() < 2 ? this : transpose(0, 1);
    }

    // =====================================================================================
    // views
    // =====================================================================================

    public Tensor reshape(int... shape) { return Dispatcher.apply(Op.RESHAPE, Attrs.of("shape", shape), this); }

    /** Reshape to sizes that may be symbolic in a trace ({@link #sizeSym}); {@link SymInt#INFER} is -1. */
    public Tensor reshape(SymInt size0, SymInt... more) {
        SymInt[] shape = join(size0, more);
        return Dispatcher.apply(Op.RESHAPE, Attrs.of("shape", sizes(shape)), traced(shape), this);
    }

    /** (first, rest...): the SymInt overloads take at least one size, so reshape() stays the int form. */
    private static SymInt[] join(SymInt first, SymInt[] rest) {
        SymInt[] all = new SymInt[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        for (SymInt s : all) if (s == null) throw new IllegalArgumentException("a size is null");
        return all;
    }

    /** This run's numbers of a symbolic shape (-1 for INFER). */
    private static int[] sizes(SymInt[] shape) {
        int[] r = new int[shape.length];
        for (int i = 0; i < r.length; i++) r[i] = shape[i].dim() == null ? -1 : Math.toIntExact(shape[i].valueUnobserved());
        return r;
    }

    /** The attributes a tracer records for a symbolic shape, or null when every size is a number. */
    private static Attrs traced(SymInt[] shape) {
        boolean symbolic = false;
        dev.kiln.backend.shape.Dim[] dims = new dev.kiln.backend.shape.Dim[shape.length];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = shape[i].dim();
            symbolic |= shape[i].isSymbolic();
        }
        return symbolic ? Attrs.of("shape", new dev.kiln.backend.op.SymbolicShape(dims)) : null;
    }

    /**
     * Reshape to a shape read from some tensor, with the leading dim left to inference (-1).
     * Library code uses this instead of reshape(other.shape()): a literal leading size would
     * pin a symbolic batch dim when the code is traced.
     */
    public Tensor reshapeTo(int[] shape) {
        if (shape.length == 0 || shape[0] == -1) return reshape(shape);
        long rest = 1;
        for (int i = 1; i < shape.length; i++) rest *= shape[i];
        if (rest == 0 || data.numel() == 0) return reshape(shape);
        int[] s = shape.clone();
        s[0] = -1;
        return reshape(s);
    }

    /** Like {@link #view(int...)}, with sizes that may be symbolic in a trace ({@link #sizeSym}). */
    public Tensor view(SymInt size0, SymInt... more) { return requireView(reshape(size0, more), sizes(join(size0, more))); }

    /** Like reshape, but fails instead of copying when the layout does not allow a view. */
    public Tensor view(int... shape) { return requireView(reshape(shape), shape); }

    private Tensor requireView(Tensor r, int[] shape) {
        if (r.data.storage() != data.storage() && data.numel() > 0) {
            throw new ShapeException("view: size " + Arrays.toString(shape) + " is not compatible with the strides of " + typeString()
                    + " " + Arrays.toString(data.strides()) + "; use reshape() (which copies) or contiguous() first");
        }
        return r;
    }

    public Tensor permute(int... dims) { return Dispatcher.apply(Op.PERMUTE, Attrs.of("dims", dims), this); }

    public Tensor transpose(int d0, int d1) {
        int r = dim();
        int a = Shapes.normDim("transpose", d0, r), b = Shapes.normDim("transpose", d1, r);
        int[] p = new int[r];
        for (int i = 0; i < r; i++) p[i] = i;
        if (r == 0) return this;
        p[a] = b;
        p[b] = a;
        return permute(p);
    }

    public Tensor expand(int... shape) { return Dispatcher.apply(Op.EXPAND, Attrs.of("shape", shape), this); }

    /** Expand to sizes that may be symbolic in a trace ({@link #sizeSym}); {@link SymInt#INFER} keeps a dim. */
    public Tensor expand(SymInt size0, SymInt... more) {
        SymInt[] shape = join(size0, more);
        return Dispatcher.apply(Op.EXPAND, Attrs.of("shape", sizes(shape)), traced(shape), this);
    }

    /** Broadcast to o's shape; o's data is not read (and it gets no gradient). */
    public Tensor expandAs(Tensor o) { return Dispatcher.apply(Op.EXPAND_AS, Attrs.EMPTY, this, o); }

    public Tensor squeeze() { return Dispatcher.apply(Op.SQUEEZE, Attrs.of("dims", ALL), this); }

    public Tensor squeeze(int dim) { return Dispatcher.apply(Op.SQUEEZE, Attrs.of("dims", new int[] {dim}), this); }

    public Tensor squeezeDims(int... dims) {
        if (dims.length == 0) return this;
        return Dispatcher.apply(Op.SQUEEZE, Attrs.of("dims", dims), this);
    }

    public Tensor unsqueeze(int dim) { return Dispatcher.apply(Op.UNSQUEEZE, Attrs.of("dim", dim), this); }

    public Tensor flatten() { return flatten(0, -1); }

    public Tensor flatten(int start) { return flatten(start, -1); }

    public Tensor flatten(int start, int end) { return Dispatcher.apply(Op.FLATTEN, Attrs.of("start", start, "end", end), this); }

    /**
     * Splits dim into {@code sizes} (one may be -1). The other dims are kept as they are (no
     * sizes are read), so [B, T, C] -> [B, T, H, D] traces with B and T both dynamic.
     */
    public Tensor unflatten(int dim, int... sizes) {
        return Dispatcher.apply(Op.UNFLATTEN, Attrs.of("dim", dim, "sizes", sizes), this);
    }

    public Tensor slice(int dim, int start, int end, int step) {
        return Dispatcher.apply(Op.SLICE, Attrs.of("dim", dim, "start", start, "end", end, "step", step), this);
    }

    public Tensor slice(int dim, int start, int end) { return slice(dim, start, end, 1); }

    /**
     * {@code length} elements from {@code start} along dim, where the length may be symbolic in a
     * trace ({@link #sizeSym} of another tensor: a positional table cut to the sequence length).
     * A symbolic length is recorded as an index_select of start .. start+length-1, a copy whose
     * size stays the symbol; a number is the usual view. The bounds are checked against this run.
     */
    public Tensor narrow(int dim, int start, SymInt length) {
        if (!length.isSymbolic()) return narrow(dim, start, length.intValue());
        int d = Shapes.normDim("narrow", dim, dim());
        int n = data.shape()[d]; // a fixed size (the dim narrowed), not the symbolic length
        int s = start < 0 ? start + n : start;
        long len = length.valueUnobserved(); // a bounds check, not a size the graph keeps
        if (s < 0 || s + len > n) {
            throw new ShapeException("narrow: start " + start + " + length " + length + " (" + len + " in this run) exceeds dim " + d + " of size " + n + " in " + typeString());
        }
        return indexSelect(d, arange(length).add((long) s).to(device()));
    }

    public Tensor narrow(int dim, int start, int length) {
        int d = Shapes.normDim("narrow", dim, dim());
        int n = data.shape()[d];
        int s = start < 0 ? start + n : start;
        if (s < 0 || length < 0 || s + length > n) {
            throw new ShapeException("narrow: start " + start + " + length " + length + " exceeds dim " + d + " of size " + n + " in " + typeString());
        }
        return slice(d, s, s + length, 1);
    }

    public Tensor select(int dim, int index) { return Dispatcher.apply(Op.SELECT, Attrs.of("dim", dim, "index", index), this); }

    // =====================================================================================
    // shape and index ops
    // =====================================================================================

    public static Tensor cat(List<Tensor> tensors, int dim) {
        if (tensors.isEmpty()) throw new IllegalArgumentException("cat: expected a non-empty list of tensors");
        return Dispatcher.apply(Op.CAT, Attrs.of("dim", dim), tensors.toArray(new Tensor[0]));
    }

    public static Tensor cat(int dim, Tensor... tensors) { return cat(Arrays.asList(tensors), dim); }

    public static Tensor stack(List<Tensor> tensors, int dim) {
        if (tensors.isEmpty()) throw new IllegalArgumentException("stack: expected a non-empty list of tensors");
        int[] first = tensors.get(0).data.shape();
        List<Tensor> u = new ArrayList<>();
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            if (!Arrays.equals(t.data.shape(), first)) {
                throw new ShapeException("stack: expects each tensor to be equal size, but got " + Shapes.toString(first) + " at entry 0 and "
                        + t.typeString() + " at entry " + i);
            }
            u.add(t.unsqueeze(Shapes.normDim("stack", dim, first.length + 1)));
        }
        return cat(u, dim);
    }

    public static Tensor stack(int dim, Tensor... tensors) { return stack(Arrays.asList(tensors), dim); }

    /** Pieces of {@code size} along dim (the last may be smaller). */
    public List<Tensor> split(int size, int dim) {
        if (size <= 0) throw new IllegalArgumentException("split: size must be positive, got " + size);
        int d = Shapes.normDim("split", dim, dim());
        int n = data.shape()[d];
        List<Tensor> out = new ArrayList<>();
        for (int s = 0; s < n || (n == 0 && out.isEmpty()); s += size) out.add(slice(d, s, Math.min(n, s + size), 1));
        return out;
    }

    public List<Tensor> split(int[] sizes, int dim) {
        int d = Shapes.normDim("split", dim, dim());
        int total = 0;
        for (int s : sizes) total += s;
        if (total != data.shape()[d]) {
            throw new ShapeException("split: sizes " + Arrays.toString(sizes) + " sum to " + total + ", not to dim " + d + " (" + data.shape()[d] + ") of " + typeString());
        }
        List<Tensor> out = new ArrayList<>();
        int pos = 0;
        for (int s : sizes) {
            out.add(slice(d, pos, pos + s, 1));
            pos += s;
        }
        return out;
    }

    /** {@code chunks} pieces of ceil(n / chunks) along dim (fewer when n is small), as torch.chunk. */
    public List<Tensor> chunk(int chunks, int dim) {
        if (chunks <= 0) throw new IllegalArgumentException("chunk: chunks must be positive, got " + chunks);
        int n = data.shape()[Shapes.normDim("chunk", dim, dim())];
        return split(Math.max(1, (n + chunks - 1) / chunks), dim);
    }

    /** Pads the last dims: pads = [last_lo, last_hi, prev_lo, prev_hi, ...]; mode constant/reflect/replicate. */
    public Tensor pad(int[] pads, String mode, double value) {
        return Dispatcher.apply(Op.PAD, Attrs.of("pads", pads, "mode", mode, "value", value), this);
    }

    public Tensor pad(int... pads) { return pad(pads, "constant", 0.0); }

    public Tensor indexSelect(int dim, Tensor index) { return Dispatcher.apply(Op.INDEX_SELECT, Attrs.of("dim", dim), this, index); }

    public Tensor gather(int dim, Tensor index) { return Dispatcher.apply(Op.GATHER, Attrs.of("dim", dim), this, index); }

    public Tensor scatterAdd(int dim, Tensor index, Tensor src) { return Dispatcher.apply(Op.SCATTER_ADD, Attrs.of("dim", dim), this, index, src); }

    public Tensor repeat(int... repeats) { return Dispatcher.apply(Op.REPEAT, Attrs.of("repeats", repeats), this); }

    /** torch.tile: like repeat, but missing leading repeats count as 1. */
    public Tensor tile(int... reps) {
        int r = Math.max(reps.length, dim());
        int[] full = new int[r];
        Arrays.fill(full, 1);
        System.arraycopy(reps, 0, full, r - reps.length, reps.length);
        return repeat(full);
    }

    public Tensor tril(int diagonal) { return Dispatcher.apply(Op.TRIL, Attrs.of("diagonal", diagonal), this); }
    public Tensor tril() { return tril(0); }
    public Tensor triu(int diagonal) { return Dispatcher.apply(Op.TRIU, Attrs.of("diagonal", diagonal), this); }
    public Tensor triu() { return triu(0); }
    public Tensor flip(int... dims) { return Dispatcher.apply(Op.FLIP, Attrs.of("dims", dims), this); }

    public Tensor argsort(int dim, boolean descending) { return Dispatcher.apply(Op.ARGSORT, Attrs.of("dim", dim, "descending", descending), this); }

    /** Sorted values and their indices along dim (stable). */
    public ValuesIndices sort(int dim, boolean descending) {
        Tensor idx = argsort(dim, descending);
        return new ValuesIndices(gather(dim, idx), idx);
    }

    /** The k largest (or smallest) values along dim, sorted, with their indices. */
    public ValuesIndices topk(int k, int dim, boolean largest) {
        Tensor idx = Dispatcher.apply(Op.TOPK_INDICES, Attrs.of("k", k, "dim", dim, "largest", largest), this);
        return new ValuesIndices(gather(dim, idx), idx);
    }

    public ValuesIndices topk(int k) { return topk(k, -1, true); }

    /** One-hot encoding of an int64 tensor; numClasses = -1 uses max + 1 (data-dependent). */
    public Tensor oneHot(int numClasses) {
        int c = numClasses;
        if (c < 0) c = data.numel() == 0 ? 1 : (int) amax().itemLong() + 1;
        return Dispatcher.apply(Op.ONE_HOT, Attrs.of("num_classes", c), this);
    }

    // =====================================================================================
    // in-place
    // =====================================================================================

    private void checkInPlaceAllowed(String op) {
        if (GradMode.isEnabled() && requiresGrad && gradFn == null) {
            throw new IllegalStateException(op + ": a leaf tensor that requires grad is being used in an in-place operation; "
                    + "wrap it in try (var g = Autograd.noGrad()) {...} or operate on a clone()");
        }
        if (GradMode.isEnabled() && viewBase != null && (viewBase.requiresGrad || requiresGrad)) {
            throw new IllegalStateException(op + ": in-place modification of a view of a tensor that requires grad is not supported "
                    + "(its base's gradient would be wrong); use the out-of-place op");
        }
    }

    private void bump() {
        // also in inference mode: the storage may be saved by a graph recorded outside it
        data.storage().bumpVersion();
    }

    /**
     * Whether value, computed just for an in-place write, is a temporary nobody else will read,
     * so its buffer (host array, or device block) may become this storage's instead of being
     * copied: only without grad mode or a tracer (no autograd node saved it), with this dtype,
     * when both cover their whole storage densely from offset 0. Optimizer steps run like this.
     */
    private boolean isTemporaryFor(Tensor value) {
        if (GradMode.isEnabled() || Dispatcher.observer() != null || value.dtype() != dtype()) return false;
        Strided v = value.data;
        return data.offset() == 0 && v.offset() == 0 && data.isContiguous() && v.isContiguous()
                && data.storage().length() == data.numel() && v.storage().length() == v.numel() && v.storage() != data.storage();
    }

    /** Writes {@code value} (computed out of place) into this tensor's storage. */
    private Tensor assign(String op, Tensor value) {
        checkInPlaceAllowed(op);
        if (!Arrays.equals(value.data.shape(), data.shape())) {
            throw new ShapeException(op + ": output with shape " + Shapes.toString(data.shape()) + " doesn't match the broadcast shape "
                    + Shapes.toString(value.data.shape()) + " (in-place ops do not broadcast their own operand)");
        }
        if (value.dtype() != dtype() && !(value.dtype().isFloatingPoint() ? dtype().isFloatingPoint() : true)) {
            throw new IllegalArgumentException(op + ": result type " + value.dtype() + " can't be cast to the desired output type " + dtype());
        }
        // on a device, the device writes its own copy (and bumps the version); else the host array
        boolean temporary = isTemporaryFor(value);
        if (device.isCpu() || !device.executor().writeInto(value.data, data, temporary)) {
            if (temporary) data.storage().adopt(value.data.storage());
            else dev.kiln.backend.cpu.Copy.copyInto(value.data, data);
            bump();
        }
        if (value.requiresGrad && GradMode.isEnabled()) {
            Tensor v = value.dtype() == dtype() ? value : value.to(dtype());
            NodeHooks.moveRetained(gradFn, v.gradFn, this); // retainGrad follows the tensor to its new node
            gradFn = v.gradFn;
            requiresGrad = true;
        } else if (GradMode.isEnabled() && requiresGrad) {
            // overwritten by a value that needs no grad (fill_, copy_ of a constant): the old
            // history no longer describes the data, so this becomes a constant
            gradFn = null;
            requiresGrad = false;
        }
        OpObserver o = Dispatcher.observer();
        if (o != null) o.onInPlace(this, value);
        return this;
    }

    /**
     * this = op(this, operand) in place: written straight into this tensor's buffer when no
     * autograd node or tracer needs the step (optimizer updates, code under noGrad), else
     * computed out of place and copied in, with the same checks and errors either way.
     */
    private Tensor inPlace(String name, Op op, Tensor operand) {
        checkInPlaceAllowed(name);
        Tensor[] in = operand == null ? new Tensor[] {this} : new Tensor[] {this, operand};
        if (Dispatcher.applyInto(op, Attrs.EMPTY, this, in)) {
            bump();
            return this;
        }
        return assign(name, Dispatcher.apply(op, Attrs.EMPTY, in));
    }

    public Tensor add_(Tensor o) { return inPlace("add_", Op.ADD, o); }
    public Tensor add_(double v) { return inPlace("add_", Op.ADD, scalarOperand(v)); }
    /** this += alpha * o. */
    public Tensor add_(Tensor o, double alpha) { return inPlace("add_", Op.ADD, alpha == 1 ? o : o.mul(alpha)); }
    public Tensor sub_(Tensor o) { return inPlace("sub_", Op.SUB, o); }
    public Tensor sub_(double v) { return inPlace("sub_", Op.SUB, scalarOperand(v)); }
    public Tensor mul_(Tensor o) { return inPlace("mul_", Op.MUL, o); }
    public Tensor mul_(double v) { return inPlace("mul_", Op.MUL, scalarOperand(v)); }
    public Tensor div_(Tensor o) { return inPlace("div_", Op.DIV, o); }
    public Tensor div_(double v) { return inPlace("div_", Op.DIV, scalarOperand(v)); }
    public Tensor clamp_(Double min, Double max) { return assign("clamp_", clamp(min, max)); }
    public Tensor neg_() { return inPlace("neg_", Op.NEG, null); }
    public Tensor relu_() { return inPlace("relu_", Op.RELU, null); }
    public Tensor sqrt_() { return inPlace("sqrt_", Op.SQRT, null); }
    public Tensor exp_() { return assign("exp_", exp()); }

    /** Copies src (broadcast) into this tensor. */
    public Tensor copy_(Tensor src) { return assign("copy_", src.to(dtype()).expand(data.shape()).add(zerosLike(this))); }

    public Tensor fill_(double v) { return assign("fill_", fullLike(this, v)); }

    public Tensor zero_() { return fill_(0); }

    // =====================================================================================
    // comparison helpers and printing
    // =====================================================================================

    /** |a - b| <= atol + rtol * |b| everywhere (NaNs equal when both are NaN). */
    public boolean allclose(Tensor o, double rtol, double atol) {
        if (!Arrays.equals(data.shape(), o.data.shape())) return false;
        double[] a = toDoubleArray(), b = o.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            if (Double.isNaN(a[i]) || Double.isNaN(b[i])) {
                if (Double.isNaN(a[i]) != Double.isNaN(b[i])) return false;
                continue;
            }
            if (a[i] == b[i]) continue;
            if (Math.abs(a[i] - b[i]) > atol + rtol * Math.abs(b[i])) return false;
        }
        return true;
    }

    /** Same shape, dtype and values. */
    public boolean equal(Tensor o) {
        return dtype() == o.dtype() && Arrays.equals(data.shape(), o.data.shape()) && Arrays.equals(toDoubleArray(), o.toDoubleArray());
    }

    @Override
    public String toString() { return TensorFormatter.format(this); }
}
