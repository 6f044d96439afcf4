package dev.kiln.backend.cuda;

import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cuda.KernelArgs.Ptr;
import dev.kiln.backend.device.DeviceExecutor;
import dev.kiln.backend.device.ElementwiseChain;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Shapes;
import dev.kiln.backend.shape.TensorType;
import jcuda.driver.CUfunction;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Runs primitive ops with the CUDA kernels. Inputs are read from their device copies
 * ({@link DeviceMirrors}); each result is computed into a fresh device block and returned as a
 * storage that lives only on the device until the host reads it, so a chain of ops copies
 * nothing to the host and launches queue up without waiting for the GPU. Ops outside
 * {@link #SUPPORTED} fail with an error naming the op.
 */
final class CudaExecutor implements DeviceExecutor {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.NEG, Op.ABS, Op.SIGN, Op.EXP, Op.LOG, Op.LOG1P, Op.EXPM1, Op.SQRT, Op.RSQRT,
            Op.RECIPROCAL, Op.SIN, Op.COS, Op.TANH, Op.SIGMOID, Op.RELU, Op.GELU, Op.SILU, Op.ERF, Op.FLOOR, Op.CEIL, Op.ROUND,
            Op.CLAMP, Op.CAST, Op.CLONE, Op.FULL_LIKE, Op.ADD, Op.SUB, Op.MUL, Op.DIV, Op.POW, Op.MAXIMUM, Op.MINIMUM, Op.GELU_BACKWARD, Op.EQ, Op.NE,
            Op.LT, Op.LE, Op.GT, Op.GE, Op.LOGICAL_AND, Op.LOGICAL_OR, Op.LOGICAL_XOR, Op.LOGICAL_NOT, Op.WHERE, Op.SUM, Op.PROD, Op.AMAX, Op.AMIN, Op.ARGMAX, Op.ARGMIN,
            Op.SOFTMAX, Op.LOG_SOFTMAX, Op.MATMUL, Op.ADDMM, Op.CONV2D, Op.CONV_TRANSPOSE2D, Op.CONV2D_WEIGHT_GRAD,
            Op.MAX_POOL2D_INDICES, Op.INDEX_SELECT, Op.GATHER, Op.SCATTER_ADD, Op.SCALED_DOT_PRODUCT_ATTENTION,
            Op.SCALED_DOT_PRODUCT_ATTENTION_GRAD, Op.SCALED_DOT_PRODUCT_ATTENTION_BACKWARD);

    private static final int BLOCK = 256;

    private final CudaBackend gpu;
    private final DeviceMirrors mirrors;
    private final String name;
    /** The attention self-check's verdict on this device: "" passed, else what failed; null until it has run to a verdict. */
    private volatile String attentionVerdict;

    CudaExecutor(CudaBackend gpu) {
        this.gpu = gpu;
        this.mirrors = new DeviceMirrors(gpu);
        gpu.allocator().onOutOfMemory(mirrors::reclaim);
        this.name = "cuda:" + gpu.info().index();
    }

    @Override
    public String deviceName() { return name; }

    @Override
    public boolean supports(Op op) { return SUPPORTED.contains(op); }

    @Override
    public void synchronize() { gpu.synchronize(); }

    @Override
    public Strided run(Op op, Strided[] in, Attrs attrs, TensorType type) {
        if (!SUPPORTED.contains(op)) throw unsupported(op, "the CUDA backend has no kernel for this op yet (docs/cuda.md lists coverage)");
        if (op == Op.SCALED_DOT_PRODUCT_ATTENTION || op == Op.SCALED_DOT_PRODUCT_ATTENTION_GRAD || op == Op.SCALED_DOT_PRODUCT_ATTENTION_BACKWARD) {
            String problem = attentionSelfCheck();
            if (problem != null) throw unsupported(op, "the CUDA attention kernels failed their self-check against the CPU kernel on this GPU (" + problem + ")");
        }
        if (!CudaOpProfile.ENABLED) return produce(type.dtype(), type.concreteShape(), (out, dst, s) -> dispatch(op, in, attrs, out, dst, s));
        return CudaOpProfile.time(gpu, op.opName(), () -> produce(type.dtype(), type.concreteShape(), (out, dst, s) -> dispatch(op, in, attrs, out, dst, s)));
    }

    /**
     * Null when the attention kernels may run here, else why not: checked against the CPU
     * kernel before their first use on this device ({@link AttentionSelfCheck}); the check's own
     * launches go straight to the kernels, not through this gate.
     */
    String attentionSelfCheck() {
        String v = attentionVerdict;
        if (v == null) {
            synchronized (this) {
                v = attentionVerdict;
                if (v == null) {
                    String d = AttentionSelfCheck.enabled() ? AttentionSelfCheck.disagreement(
                            (op, in, a, t) -> produce(t.dtype(), t.concreteShape(), (out, dst, s) -> dispatch(op, in, a, out, dst, s))) : null;
                    v = d == null ? "" : d;
                    attentionVerdict = v;
                }
            }
        }
        return v.isEmpty() ? null : v;
    }

    /** Writes an op's result into dst, a block of the result's size; temporaries come from s. */
    @FunctionalInterface
    private interface Kernels {
        void write(Strided out, long dst, OpScope s);
    }

    /**
     * The one way results are made: a device block of the result's size, the kernels writing it,
     * and a storage that lives there until the host reads it. If the kernels fail, the block is
     * returned and nothing refers to it.
     */
    private Strided produce(DType dtype, int[] shape, Kernels kernels) {
        int n = Shapes.numelInt(shape);
        mirrors.freeDead();
        DeviceBlock result = gpu.allocate((long) n * CudaBackend.deviceItemSize(dtype));
        Storage storage = Storage.onDevice(dtype, n, mirrors);
        Strided out = Strided.contiguous(storage, shape);
        try (OpScope s = new OpScope()) {
            kernels.write(out, result.address(), s);
        } catch (RuntimeException e) {
            gpu.free(result);
            throw e;
        }
        mirrors.holds(storage, result);
        return out;
    }

    private static final java.util.concurrent.atomic.AtomicLong FUSED_LAUNCHES = new java.util.concurrent.atomic.AtomicLong();

    /** Generated fused kernels launched so far in this JVM (tests check that compiled graphs use them). */
    static long fusedLaunches() { return FUSED_LAUNCHES.get(); }

    /** Generated kernels by chain (a compiled plan builds its chains once and reuses them). */
    private final java.util.Map<ElementwiseChain, jcuda.driver.CUfunction> fusedKernels = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public Strided runFused(ElementwiseChain chain, Strided[] inputs, int[] shape) {
        boolean generated = chain.dtype().isFloatingPoint() && chain.steps().stream().allMatch(st -> FusedKernelGenerator.isFusible(st.op()));
        if (!generated) return DeviceExecutor.super.runFused(chain, inputs, shape); // one op at a time (where, comparisons)
        if (!CudaOpProfile.ENABLED) return produce(chain.dtype(), shape, (out, dst, s) -> launchFused(chain, inputs, shape, dst, s));
        return CudaOpProfile.time(gpu, "fused(" + chain.steps().size() + " ops)",
                () -> produce(chain.dtype(), shape, (out, dst, s) -> launchFused(chain, inputs, shape, dst, s)));
    }

    private void launchFused(ElementwiseChain chain, Strided[] inputs, int[] shape, long dst, OpScope s) {
        launchGenerated(chain, views(inputs, shape, chain.dtype(), s), shape, dst);
        FUSED_LAUNCHES.incrementAndGet();
    }

    private View[] views(Strided[] inputs, int[] shape, DType t, OpScope s) {
        View[] v = new View[inputs.length];
        for (int i = 0; i < v.length; i++) v[i] = view(inputs[i], shape, t, s);
        return v;
    }

    /** The chain's generated kernel (compiled on first use) over input views broadcast to shape, into dst. */
    private void launchGenerated(ElementwiseChain chain, View[] inputs, int[] shape, long dst) {
        jcuda.driver.CUfunction f = fusedKernels.computeIfAbsent(chain,
                c -> gpu.function(FusedKernelGenerator.source(c), FusedKernelGenerator.kernelName(c) + ".cu", FusedKernelGenerator.kernelName(c)));
        int n = Shapes.numelInt(shape);
        List<Object> args = new ArrayList<>(List.of(n, KernelLayouts.shape(shape)));
        for (View v : inputs) {
            args.add(v.ptr());
            args.add(v.strides());
            args.add(v.offset());
        }
        args.add(new Ptr(dst));
        gpu.launch(f, CudaBackend.blocksFor(n, BLOCK), 1, 1, BLOCK, args.toArray());
    }

    @Override
    public boolean writeInto(Strided value, Strided dest, boolean valueIsTemporary) {
        Storage target = dest.storage();
        boolean wholeStorage = dest.offset() == 0 && dest.isContiguous() && dest.numel() == target.length();
        if (!wholeStorage || !java.util.Arrays.equals(value.shape(), dest.shape())) return false;
        // an optimizer's update: the value's block becomes the target's, no copy kernel
        if (valueIsTemporary && value.dtype() == target.dtype() && mirrors.handOver(value.storage(), target)) return true;
        DeviceBlock block = gpu.allocate((long) target.length() * CudaBackend.deviceItemSize(target.dtype()));
        try {
            cast(value, dest.shape(), target.dtype(), block.address());
        } catch (RuntimeException e) {
            gpu.free(block);
            throw e;
        }
        mirrors.overwritten(target, block);
        return true;
    }

    /** Temporary device blocks of one op, returned to the allocator when it ends. */
    final class OpScope implements AutoCloseable {
        final List<DeviceBlock> temps = new ArrayList<>();

        long temp(long bytes) {
            DeviceBlock b = gpu.allocate(bytes);
            temps.add(b);
            return b.address();
        }

        @Override
        public void close() { for (DeviceBlock b : temps) gpu.free(b); }
    }

    private UnsupportedOperationException unsupported(Op op, String why) {
        return new UnsupportedOperationException(op.opName() + " on " + name + ": " + why);
    }

    private void dispatch(Op op, Strided[] in, Attrs a, Strided out, long dst, OpScope s) {
        DType t = out.dtype();
        int n = out.numel();
        switch (op) {
            case FULL_LIKE -> fill(t, n, a.getFloat("value"), dst);
            case CAST, CLONE -> cast(in[0], out.shape(), t, dst);
            case EQ, NE, LT, LE, GT, GE, LOGICAL_AND, LOGICAL_OR, LOGICAL_XOR -> {
                // promoted as the CPU kernel promotes (a 0-d operand is a scalar: f32 against an f64 0-d compares in f32)
                DType common = dev.kiln.backend.op.ShapeRules.promote(in[0].dtype(), in[0].rank() == 0, in[1].dtype(), in[1].rank() == 0);
                View x = view(in[0], out.shape(), common, s), y = view(in[1], out.shape(), common, s);
                CUfunction f = predicateKernels.computeIfAbsent(op.opName() + "_" + suffix(common), k -> gpu.function(
                        FusedKernelGenerator.predicateSource(op, common), k + ".cu", FusedKernelGenerator.predicateName(op, common)));
                gpu.launch(f, CudaBackend.blocksFor(n, BLOCK), 1, 1, BLOCK, n, KernelLayouts.shape(out.shape()),
                        x.ptr(), x.strides(), x.offset(), y.ptr(), y.strides(), y.offset(), new Ptr(dst));
            }
            case WHERE -> {
                View c = view(in[0], out.shape(), DType.BOOL, s), x = view(in[1], out.shape(), t, s), y = view(in[2], out.shape(), t, s);
                launch1(CudaKernelSources.ELEMENTWISE, "kiln_where_" + suffix(t), n, n, KernelLayouts.shape(out.shape()),
                        c.ptr(), c.strides(), c.offset(), x.ptr(), x.strides(), x.offset(), y.ptr(), y.strides(), y.offset(), new Ptr(dst));
            }
            case LOGICAL_NOT -> {
                View x = view(in[0], out.shape(), in[0].dtype(), s);
                launch1(CudaKernelSources.ELEMENTWISE, "kiln_logical_not_" + suffix(in[0].dtype()), n, n, KernelLayouts.shape(out.shape()),
                        x.ptr(), x.strides(), x.offset(), new Ptr(dst));
            }
            case SUM, PROD, AMAX, AMIN -> reduce(op, in[0], a, out, dst, s);
            case ARGMAX, ARGMIN -> argReduce(op, in[0], a, dst, s);
            case SOFTMAX, LOG_SOFTMAX -> softmax(op, in[0], a, out, dst, s);
            case MATMUL -> matmul(in[0], in[1], out, dst, s);
            case ADDMM -> {
                requireFloat(op, t);
                cast(in[0], out.shape(), t, dst); // the bias broadcast into C, then C += a @ b
                gemm(t, out.shape()[0], out.shape()[1], in[1].shape()[1], view(in[1], null, t, s), 0, view(in[2], null, t, s), 0, dst, 0, 1, 1);
            }
            case CONV2D -> ConvOps.conv2d(this, in, a, out, dst, s);
            case CONV_TRANSPOSE2D -> ConvOps.convTranspose2d(this, in, a, out, dst, s);
            case CONV2D_WEIGHT_GRAD -> ConvOps.weightGrad(this, in, a, out, dst, s);
            case MAX_POOL2D_INDICES -> ConvOps.maxPoolIndices(this, in[0], a, out, dst, s);
            case INDEX_SELECT, GATHER, SCATTER_ADD -> IndexOps.run(this, op, in, a, out, dst, s);
            case SCALED_DOT_PRODUCT_ATTENTION -> AttentionOps.forward(this, in, a, out, dst, s);
            case SCALED_DOT_PRODUCT_ATTENTION_GRAD -> AttentionOps.backward(this, in, a, out, dst, s);
            case SCALED_DOT_PRODUCT_ATTENTION_BACKWARD -> AttentionOps.backwardAll(this, in, a, out, dst, s);
            default -> elementwise(op, in, a, out, dst, s);
        }
    }

    // ---- helpers shared with ConvOps and IndexOps ----

    CudaBackend gpu() { return gpu; }

    long temp(OpScope s, long bytes) { return s.temp(bytes); }

    /** A strided device view: address of the storage, strides and offset in elements. */
    record View(Ptr ptr, int[] strides, int offset) {}

    /**
     * The device view of x as dtype t, broadcast to shape when shape is given (size-1 and
     * missing leading dims get stride 0). A dtype change runs a cast into a temp block.
     */
    View view(Strided x, int[] shape, DType t, OpScope s) {
        Strided v = x;
        if (x.dtype() != t) {
            long tmp = s.temp((long) x.numel() * CudaBackend.deviceItemSize(t));
            cast(x, x.shape(), t, tmp);
            return new View(new Ptr(tmp), KernelLayouts.strides(shape == null ? Shapes.contiguousStrides(x.shape())
                    : broadcastStrides(x.shape(), Shapes.contiguousStrides(x.shape()), shape)), 0);
        }
        long base = mirrors.address(v.storage());
        int[] st = shape == null ? v.strides() : broadcastStrides(v.shape(), v.strides(), shape);
        return new View(new Ptr(base), KernelLayouts.strides(st), v.offset());
    }

    /** x's data as a contiguous block of dtype t (copied only when x is not already so). */
    long contiguous(Strided x, DType t, OpScope s) {
        if (x.dtype() == t && x.isContiguous()) return mirrors.address(x.storage()) + (long) x.offset() * CudaBackend.deviceItemSize(t);
        long tmp = s.temp((long) x.numel() * CudaBackend.deviceItemSize(t));
        cast(x, x.shape(), t, tmp);
        return tmp;
    }

    static int[] broadcastStrides(int[] shape, int[] strides, int[] target) {
        int[] r = new int[target.length];
        int lead = target.length - shape.length;
        for (int d = 0; d < shape.length; d++) r[lead + d] = shape[d] == 1 && target[lead + d] != 1 ? 0 : strides[d];
        return r;
    }

    /** Strided copy of x (broadcast to shape) into a contiguous block of dtype t. */
    void cast(Strided x, int[] shape, DType t, long dst) {
        long base = mirrors.address(x.storage());
        int n = Shapes.numelInt(shape);
        launch1(CudaKernelSources.ELEMENTWISE, "kiln_cast_" + suffix(x.dtype()) + "_" + suffix(t), n, n, KernelLayouts.shape(shape), new Ptr(base),
                KernelLayouts.strides(broadcastStrides(x.shape(), x.strides(), shape)), x.offset(), new Ptr(dst));
    }

    /** n elements of dtype t at dst, all equal to value. */
    void fill(DType t, int n, double value, long dst) {
        launch1(CudaKernelSources.ELEMENTWISE, "kiln_fill_" + suffix(t), n, n, fillValue(t, value), new Ptr(dst));
    }

    /** A grid-stride launch over n elements. */
    void launch1(String file, String kernel, long n, Object... args) {
        gpu.launch(gpu.kernel(file, kernel), CudaBackend.blocksFor(n, BLOCK), 1, 1, BLOCK, args);
    }

    /**
     * C[b] (+)= A[b] @ B[b] for b in [0, batch): A's element (i, k) at a + i*sam + k*sak, B's
     * (k, j) at b + k*sbk + j*sbn; C row-major with ldc = N. Views carry 2-D strides here.
     */
    void gemm(DType t, int m, int n, int k, View a, long bsa, View b, long bsb, long c, long bsc, int batch, int accumulate) {
        int[] as = a.strides(), bs = b.strides();
        long item = CudaBackend.deviceItemSize(t);
        Ptr pa = new Ptr(a.ptr().address() + a.offset() * item), pb = new Ptr(b.ptr().address() + b.offset() * item);
        // 128x128 tiles once both sides fill them; the 64x64 kernel keeps small and f64 products
        boolean large = t == DType.FLOAT32 && m >= 128 && n >= 128;
        String kernel = large ? "kiln_sgemm_128" : t == DType.FLOAT32 ? "kiln_sgemm" : "kiln_dgemm";
        int tile = large ? 128 : 64;
        gpu.launch(gpu.kernel(CudaKernelSources.GEMM, kernel), (n + tile - 1) / tile, (m + tile - 1) / tile, batch, BLOCK, m, n, k, pa, as[0],
                as[1], bsa, pb, bs[0], bs[1], bsb, new Ptr(c), n, bsc, accumulate);
    }

    /** A 2-D view [rows, cols] at address with the given element strides. */
    static View view2d(long address, int rowStride, int colStride) { return new View(new Ptr(address), new int[] {rowStride, colStride}, 0); }

    static String suffix(DType t) {
        return switch (t) {
            case FLOAT32 -> "f32";
            case FLOAT64 -> "f64";
            case INT64 -> "i64";
            case BOOL -> "bool";
        };
    }

    void requireFloat(Op op, DType t) {
        if (!t.isFloatingPoint()) throw unsupported(op, "the CUDA kernel is for f32 and f64 results, not " + t);
    }

    private static Object fillValue(DType t, double v) {
        return switch (t) {
            case FLOAT32 -> (float) v;
            case FLOAT64 -> v;
            case INT64 -> (long) v;
            case BOOL -> v != 0 ? 1 : 0; // a byte in memory, but kernel scalars are passed as ints
        };
    }

    // ---- op families ----

    /** An arithmetic op through its generated kernel (a chain of that op alone, built once per op, attributes and dtype). */
    void elementwise(Op op, Strided[] in, Attrs a, Strided out, long dst, OpScope s) {
        requireFloat(op, out.dtype());
        elementwiseViews(op, a, out.dtype(), out.shape(), views(in, out.shape(), out.dtype(), s), dst);
    }

    /** An arithmetic op over device views already of the result's dtype (ConvOps adds a bias in place this way). */
    void elementwiseViews(Op op, Attrs a, DType t, int[] shape, View[] in, long dst) {
        if (!FusedKernelGenerator.isFusible(op)) throw unsupported(op, "not an elementwise op");
        ElementwiseChain chain = eagerChains.computeIfAbsent(new EagerKernel(op, a, t), k -> FusedKernelGenerator.single(op, a, t));
        launchGenerated(chain, in, shape, dst);
    }

    private record EagerKernel(Op op, Attrs attrs, DType dtype) {}

    /**
     * One chain per eager op, so the generated kernel is found by identity instead of by
     * regenerating its source. Bounded: a clamp's bounds are part of its kernel, and bounds that
     * change every step would otherwise add a chain per step.
     */
    private final java.util.Map<EagerKernel, ElementwiseChain> eagerChains = java.util.Collections.synchronizedMap(
            new java.util.LinkedHashMap<>(64, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(java.util.Map.Entry<EagerKernel, ElementwiseChain> e) { return size() > 512; }
            });
    /** Comparison kernels by op and operand type. */
    private final java.util.Map<String, CUfunction> predicateKernels = new java.util.concurrent.ConcurrentHashMap<>();

    private void reduce(Op op, Strided x, Attrs a, Strided out, long dst, OpScope s) {
        DType t = out.dtype();
        if (t != DType.INT64) requireFloat(op, t);
        int rank = x.rank();
        boolean[] reduced = new boolean[rank];
        int[] dims = a.getInts("dims");
        if (dims.length == 0) java.util.Arrays.fill(reduced, true);
        for (int d : dims) reduced[d < 0 ? d + rank : d] = true;
        launchRows(CudaKernelSources.REDUCE, "kiln_reduce_" + suffix(t), CudaOpCodes.REDUCE.get(op), x, t, reduced, dst, s);
    }

    /** argmax/argmin along dim (over every element without one): the reduce kernels' row layout, i64 indices out. */
    private void argReduce(Op op, Strided x, Attrs a, long dst, OpScope s) {
        DType t = x.dtype();
        requireFloat(op, t);
        int rank = x.rank();
        boolean[] reduced = new boolean[rank];
        Integer dim = a.getOptionalInt("dim");
        if (dim == null) java.util.Arrays.fill(reduced, true);
        else reduced[dim < 0 ? dim + rank : dim] = true;
        launchRows(CudaKernelSources.REDUCE, "kiln_argreduce_" + suffix(t), op == Op.ARGMAX ? 0 : 1, x, t, reduced, dst, s);
    }

    /**
     * Launches a row kernel of reduce.cu over x read as type t: kept dims first, reduced dims
     * last, so row r, element j is position r * len + j of the permuted (strided, uncopied) view.
     */
    private void launchRows(String file, String kernel, int code, Strided x, DType t, boolean[] reduced, long dst, OpScope s) {
        int rank = x.rank();
        int[] shape = new int[rank], strides = new int[rank];
        int k = 0, rows = 1, len = 1;
        for (int d = 0; d < rank; d++) if (!reduced[d]) { shape[k] = x.shape()[d]; strides[k++] = x.strides()[d]; rows *= x.shape()[d]; }
        for (int d = 0; d < rank; d++) if (reduced[d]) { shape[k] = x.shape()[d]; strides[k++] = x.strides()[d]; len *= x.shape()[d]; }
        View v = view(x, null, t, s);
        int[] st = x.dtype() == t ? strides : permutedContiguous(x.shape(), reduced);
        gpu.launch(gpu.kernel(file, kernel), Math.max(1, Math.min(rows, 65535)), 1, 1, BLOCK, code, rows, len,
                KernelLayouts.shape(shape), v.ptr(), KernelLayouts.strides(st), v.offset(), new Ptr(dst));
    }

    /** Strides of a contiguous tensor of shape, listed kept-dims-first as in reduce(). */
    private static int[] permutedContiguous(int[] shape, boolean[] reduced) {
        int[] c = Shapes.contiguousStrides(shape);
        int[] r = new int[shape.length];
        int k = 0;
        for (int d = 0; d < shape.length; d++) if (!reduced[d]) r[k++] = c[d];
        for (int d = 0; d < shape.length; d++) if (reduced[d]) r[k++] = c[d];
        return r;
    }

    private void softmax(Op op, Strided x, Attrs a, Strided out, long dst, OpScope s) {
        DType t = out.dtype();
        requireFloat(op, t);
        int rank = Math.max(x.rank(), 1);
        int dim = x.rank() == 0 ? 0 : Math.floorMod(a.getInt("dim"), x.rank());
        int[] xs = x.rank() == 0 ? new int[] {1} : x.shape();
        boolean[] last = new boolean[rank];
        last[dim] = true;
        View v = view(x, null, t, s);
        int[] xst = x.rank() == 0 ? new int[] {0} : x.dtype() == t ? x.strides() : Shapes.contiguousStrides(xs);
        int[] shape = new int[rank], sx = new int[rank], so = new int[rank], oc = Shapes.contiguousStrides(xs);
        int k = 0;
        for (int d = 0; d < rank; d++) if (d != dim) { shape[k] = xs[d]; sx[k] = xst[d]; so[k++] = oc[d]; }
        shape[k] = xs[dim];
        sx[k] = xst[dim];
        so[k] = oc[dim];
        int len = xs[dim], rows = len == 0 ? 0 : Shapes.numelInt(xs) / len;
        gpu.launch(gpu.kernel(CudaKernelSources.SOFTMAX, "kiln_softmax_" + suffix(t)), Math.max(1, Math.min(rows, 65535)), 1, 1, BLOCK,
                op == Op.LOG_SOFTMAX ? 1 : 0, rows, len, KernelLayouts.shape(shape), v.ptr(), KernelLayouts.strides(sx), v.offset(), new Ptr(dst),
                KernelLayouts.strides(so));
    }

    private void matmul(Strided x, Strided y, Strided out, long dst, OpScope s) {
        DType t = out.dtype();
        requireFloat(Op.MATMUL, t);
        if (x.rank() < 2 || y.rank() < 2 || x.rank() > 3 || y.rank() > 3) {
            throw unsupported(Op.MATMUL, "the CUDA kernel takes 2-D or 3-D (batched) operands, got ranks " + x.rank() + " and " + y.rank());
        }
        View a = view(x, null, t, s), b = view(y, null, t, s);
        int m = x.shape()[x.rank() - 2], k = x.shape()[x.rank() - 1], n = y.shape()[y.rank() - 1];
        int batch = out.rank() == 3 ? out.shape()[0] : 1;
        long bsa = x.rank() == 3 && x.shape()[0] != 1 ? x.strides()[0] : 0, bsb = y.rank() == 3 && y.shape()[0] != 1 ? y.strides()[0] : 0;
        View a2 = new View(a.ptr(), new int[] {a.strides()[x.rank() - 2], a.strides()[x.rank() - 1]}, a.offset());
        View b2 = new View(b.ptr(), new int[] {b.strides()[y.rank() - 2], b.strides()[y.rank() - 1]}, b.offset());
        gemm(t, m, n, k, a2, bsa, b2, bsb, dst, (long) m * n, batch, 0);
    }
}
