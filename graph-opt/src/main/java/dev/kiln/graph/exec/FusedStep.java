package dev.kiln.graph.exec;

import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.backend.cpu.CpuKernels;
import dev.kiln.backend.cpu.gemm.Gemm;
import dev.kiln.backend.cpu.parallel.Parallel;
import dev.kiln.backend.device.ElementwiseChain;
import dev.kiln.backend.cpu.gemm.GemmProvider;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Shapes;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A fused elementwise group, optionally finishing a GEMM: the output is produced block by block
 * (GEMM row chunks small enough to stay in cache, then the group's program over each block), so
 * every input is read once and no intermediate is ever written to memory.
 */
final class FusedStep extends PlanStep {
    private static final Gemm GEMM = GemmProvider.get();
    /** GEMM output chunk (elements) finished by the epilogue while it is still in cache. */
    private static final int GEMM_CHUNK_ELEMENTS = 64 * 1024;
    /** Below this a fused loop stays on the caller (as ElementSplit's two-range minimum). */
    private static final int PARALLEL_MIN_ELEMENTS = 2 * 64 * 1024;
    /** A bool operand at most 1/this of the output's size is widened once per run (see Operands). */
    private static final int WIDEN_ONCE_RATIO = 8;
    /** ... and of at most this many elements (4 MiB as floats): a [4096, 4096] mask stays converted per block, not copied per run. */
    private static final int WIDEN_ONCE_MAX = 1 << 20;

    private final Plan plan;
    private final FusedProgram program;
    /** Value index of each external input; -1 for the GEMM product, which this step computes. */
    private final int[] ext;
    /** Each chain step's block function (where, with three operands, has neither). */
    private final BlockOps.Unary[] unary;
    private final BlockOps.Binary[] binary;
    private final int[] shape;
    private final int numel;
    private final int gemmA;
    private final int gemmB;
    /** An addmm's bias (broadcast to the product), or -1. */
    private final int gemmBias;
    /** The GEMM node's own result shape, for eager's kernel on A that is not one run of rows (never the case under a reshape: its A is 2-D). */
    private final int[] productShape;

    FusedStep(Plan plan, StepSpec.Fused spec, Map<Value, Integer> index) {
        super(spec, index);
        this.plan = plan;
        this.program = spec.program();
        this.ext = new int[program.externals().size()];
        for (int k = 0; k < ext.length; k++) ext[k] = k == program.productInput() ? -1 : index.get(program.externals().get(k));
        int steps = program.chain().steps().size();
        this.unary = new BlockOps.Unary[steps];
        this.binary = new BlockOps.Binary[steps];
        for (int i = 0; i < steps; i++) {
            ElementwiseChain.Step st = program.chain().steps().get(i);
            if (st.srcs().length == 1) unary[i] = BlockOps.unary(st.op(), st.attrs());
            else if (st.srcs().length == 2) binary[i] = BlockOps.binary(st.op());
        }
        this.shape = plan.shapes[out];
        this.numel = Shapes.numelInt(shape);
        Node g = spec.gemm();
        int first = g != null && g.op() == Op.ADDMM ? 1 : 0;
        this.gemmA = g == null ? -1 : index.get(g.inputs().get(first));
        this.gemmB = g == null ? -1 : index.get(g.inputs().get(first + 1));
        this.gemmBias = first == 1 ? index.get(g.inputs().get(0)) : -1;
        this.productShape = g == null ? shape : plan.shapes[index.get(g.output())];
    }

    @Override
    String kind() {
        StepSpec.Fused f = (StepSpec.Fused) spec;
        return f.gemm() == null ? "fused" : f.elementwise().isEmpty() && f.gemm().op() == Op.MATMUL ? "gemm" : "gemm+epilogue";
    }

    /** A kernel result this step may overwrite: dense float32 from offset 0, nothing else in its storage. */
    private static boolean isWholeDenseBuffer(Strided v, int numel) {
        return v != null && v.dtype() == DType.FLOAT32 && v.offset() == 0 && v.isContiguous() && v.storage().length() == numel;
    }

    /** Elements of arena product scratch this step needs: its GEMM product, when the output takes over an epilogue input. */
    long productElements() {
        return gemmA >= 0 && !program.isEmpty() && plan.memory.takesOverBufferOf[out] >= 0 ? numel : 0;
    }

    @Override
    MemoryPlan.StepUse use() {
        // An elementwise group may write over a dense input of its own shape. A GEMM must not
        // write over its operands, and its product lands in the output buffer before the
        // epilogue reads its inputs, so a GEMM step may only take over a donated parameter of the
        // epilogue (a momentum buffer): run() then puts the product in arena scratch first.
        int[] candidates = Arrays.stream(ext)
                .filter(v -> v >= 0)
                .filter(v -> Arrays.equals(plan.shapes[v], shape) && plan.dtypes[v] == DType.FLOAT32)
                .filter(v -> gemmA < 0 || (plan.donated[v] && v != gemmA && v != gemmB)).toArray();
        return new MemoryPlan.StepUse(out, reads, false, true, candidates, plan.bytes(out));
    }

    @Override
    void run(Strided[] env, Arena arena) {
        // A's batch and row dims as one run of rows, or null when they are not (a transposed
        // [B, T, C], a slice along T): then eager's kernel, one GEMM per batch index with
        // eager's bits, computes the product (into the step's slot when it has no epilogue, else
        // into the arena's product scratch), and the epilogue (if any) finishes it
        Strided aRows = gemmA >= 0 ? env[gemmA].asRows() : null;
        Strided eagerProduct = null;
        if (gemmA >= 0 && aRows == null) {
            Strided[] operands = {env[gemmA], env[gemmB]};
            TensorType productType = TensorType.of(DType.FLOAT32, productShape);
            if (program.isEmpty()) {
                env[out] = plan.memory.slotOf[out] >= 0
                        ? CpuKernels.runPreferring(Op.MATMUL, operands, Attrs.EMPTY, productType, arena.slotViews[out])
                        : CpuKernels.run(Op.MATMUL, operands, Attrs.EMPTY, productType);
                return;
            }
            Strided scratch = Strided.contiguous(Storage.wrap(arena.product(numel)), productShape);
            eagerProduct = CpuKernels.runPreferring(Op.MATMUL, operands, Attrs.EMPTY, productType, scratch);
        }
        Strided o;
        int victim = plan.memory.takesOverBufferOf[out];
        if (plan.memory.slotOf[out] >= 0) {
            o = arena.slotViews[out];
        } else if (victim >= 0 && isWholeDenseBuffer(env[victim], numel)) {
            o = Strided.contiguous(env[victim].storage(), shape);
        } else {
            o = Strided.allocate(DType.FLOAT32, shape);
        }
        float[] oa = o.storage().f32();
        Operands ops = new Operands(env, arena);
        if (eagerProduct != null) {
            elementwise(ops, eagerProduct.storage().f32(), oa, arena);
        } else if (gemmA >= 0) {
            // [.., m, k] @ [k, n] as one GEMM over all the rows of A (a linear layer on [B, T, C])
            Strided a = aRows, b = env[gemmB], bias = gemmBias >= 0 ? env[gemmBias] : null;
            int m = a.shape()[0], n = shape[shape.length - 1], k = a.shape()[1];
            int ars = a.strides()[0], acs = a.strides()[1], brs = b.strides()[0], bcs = b.strides()[1];
            // over a donated epilogue input the product goes to scratch: the epilogue still reads that input
            boolean overInput = victim >= 0 && o.storage() == env[victim].storage() && !program.isEmpty();
            int chunk = chunkRows(m, n, k, acs, brs, overInput);
            if (chunk >= m) {
                float[] product = overInput ? arena.product(numel) : oa;
                // addmm as eager computes it: the bias broadcast into C, then C += A @ B (the
                // same additions in the same order, so the same bits when k spans several blocks)
                if (bias != null) Copy.copyInto(bias, Strided.contiguous(Storage.wrap(product), new int[] {m, n}));
                GEMM.sgemm(m, n, k, a.storage().f32(), a.offset(), ars, acs, b.storage().f32(), b.offset(), brs, bcs, product, 0, n, bias != null);
                if (!program.isEmpty()) elementwise(ops, product, oa, arena);
            } else {
                for (int r0 = 0; r0 < m; ) {
                    int r = Math.min(chunk, m - r0);
                    // a short last chunk could change the GEMM's algorithm (and so the bits): it joins this one
                    if (r0 + r < m && GEMM.sgemmUsesDotProducts(m - r0 - r, n, k, acs, brs)) r = m - r0;
                    if (bias != null) Copy.copyInto(biasRows(bias, m, n, r0, r), new Strided(o.storage(), new int[] {r, n}, new int[] {n, 1}, r0 * n));
                    GEMM.sgemm(r, n, k, a.storage().f32(), a.offset() + r0 * ars, ars, acs, b.storage().f32(), b.offset(), brs, bcs,
                            oa, r0 * n, n, bias != null);
                    // the chunk's epilogue on every thread, as the GEMM before it (a 512-row chunk of a
                    // [4096, 384] linear output is 196k elements: one thread alone left the other idle)
                    elementwise(ops, oa, oa, r0 * n, (r0 + r) * n, arena);
                    r0 += r;
                }
            }
        } else {
            elementwise(ops, oa, oa, arena);
        }
        env[out] = o;
    }

    /**
     * Rows of the product computed (and finished by the epilogue) at a time; m for one piece.
     * Row chunks let the epilogue read a chunk while it is still in cache, but every chunk packs
     * all of B again: only chunk when a chunk has >= 4x as many elements as B (weight gradients
     * of a batch-64 MLP packed B four times over before). A chunk must take the same GEMM
     * algorithm as the whole product (as eager runs it), or its bits would differ from eager's.
     */
    private int chunkRows(int m, int n, int k, int acs, int brs, boolean overInput) {
        if (program.isEmpty() || n == 0 || overInput || GEMM.sgemmUsesDotProducts(m, n, k, acs, brs)) return m;
        int rows = Math.max(1, Math.min(m, Math.max(GEMM_CHUNK_ELEMENTS / n, 4 * k)));
        while (rows < m && GEMM.sgemmUsesDotProducts(rows, n, k, acs, brs)) rows = Math.min(m, 2 * rows);
        return rows;
    }

    /**
     * Rows [r0, r0 + r) of the bias broadcast to the addmm's [m, n] product (the step's output
     * may be that product reshaped to [.., n]).
     */
    private static Strided biasRows(Strided bias, int m, int n, int r0, int r) {
        int[] st = Shapes.broadcastStrides(bias.shape(), bias.strides(), new int[] {m, n});
        return new Strided(bias.storage(), new int[] {r, n}, st, bias.offset() + r0 * st[0]);
    }

    /** {@link #elementwise(Operands, float[], float[], int, int, Arena)} over the whole output. */
    private void elementwise(Operands ops, float[] product, float[] oa, Arena arena) {
        elementwise(ops, product, oa, 0, numel, arena);
    }

    /**
     * The group's program over output elements [from, to), split over the CPU pool when the range
     * is long. {@code product} holds the GEMM result the chain reads as its product input (the
     * output buffer itself unless the output takes over an epilogue input); the last step writes
     * {@code oa}.
     */
    private void elementwise(Operands ops, float[] product, float[] oa, int from, int to, Arena arena) {
        if (to - from >= PARALLEL_MIN_ELEMENTS && arena.blocks.length > 1) {
            // one contiguous range per thread, each with its own scratch blocks; every element is
            // computed by the same instructions wherever the cut falls, so the split changes no bit
            Parallel.forRanges(arena.blocks.length, to - from, plan.blockSize, true,
                    (q, lo, hi) -> blocks(ops, product, oa, from + lo, from + hi, arena.blocks[q]));
        } else {
            blocks(ops, product, oa, from, to, arena.blocks[0]);
        }
    }

    /** Where each external input is read from during this run. */
    private final class Operands {
        final Strided[] x = new Strided[ext.length];
        final float[][] arr = new float[ext.length][];
        final int[] off = new int[ext.length];
        final int[] stride = new int[ext.length];
        final int[][] bstrides = new int[ext.length][];

        Operands(Strided[] env, Arena arena) {
            for (int k = 0; k < ext.length; k++) {
                if (ext[k] < 0) continue; // the GEMM product: read from the output buffer
                Strided v = env[ext[k]];
                x[k] = v;
                if (v.dtype() == DType.FLOAT32 && v.isContiguous() && Arrays.equals(v.shape(), shape)) {
                    arr[k] = v.storage().f32(); // dense and of the output's shape: read in place
                    off[k] = v.offset();
                    stride[k] = 1;
                } else if (v.dtype() == DType.FLOAT32 && v.numel() == 1) {
                    arr[k] = v.storage().f32(); // a broadcast scalar
                    off[k] = v.offset();
                    stride[k] = 0;
                } else {
                    if (v.dtype() == DType.BOOL && (long) v.numel() * WIDEN_ONCE_RATIO <= numel && v.numel() <= WIDEN_ONCE_MAX) {
                        // a small bool operand broadcast over the output (attention's [T, T] mask
                        // over [B, H, T, T]): widened to 1f/0f once per run, so each block's load
                        // is a float copy instead of a conversion per element. Same values.
                        v = Copy.toContiguous(v, DType.FLOAT32);
                        x[k] = v;
                    }
                    arr[k] = null; // loaded per block into the running thread's Blocks.ext[k]
                    off[k] = -1;
                    stride[k] = 1;
                    bstrides[k] = Shapes.broadcastStrides(v.shape(), v.strides(), shape);
                }
            }
        }
    }

    private void blocks(Operands ops, float[] product, float[] oa, int from, int to, Arena.Blocks mine) {
        int bs = plan.blockSize;
        List<ElementwiseChain.Step> steps = program.chain().steps();
        int[] registers = program.registers();
        int last = steps.size() - 1, productInput = program.productInput();
        float[][] sa = new float[3][];
        int[] so = new int[3], ss = new int[3];
        for (int p = from; p < to; p += bs) {
            int n = Math.min(bs, to - p);
            for (int k = 0; k < ext.length; k++) if (ext[k] >= 0 && ops.off[k] < 0) BlockLoader.load(ops.x[k], ops.bstrides[k], shape, p, n, mine.ext(k));
            for (int ii = 0; ii <= last; ii++) {
                int[] src = steps.get(ii).srcs();
                for (int j = 0; j < src.length; j++) {
                    int r = src[j];
                    if (r >= 0) {
                        sa[j] = mine.scratch[registers[r]]; so[j] = 0; ss[j] = 1;
                    } else if (-1 - r == productInput) {
                        sa[j] = product; so[j] = p; ss[j] = 1;
                    } else {
                        int k = -1 - r;
                        sa[j] = ops.off[k] < 0 ? mine.ext(k) : ops.arr[k];
                        ss[j] = ops.stride[k];
                        so[j] = ops.off[k] < 0 ? 0 : ops.off[k] + (ss[j] == 1 ? p : 0);
                    }
                }
                float[] d = ii == last ? oa : mine.scratch[registers[ii]];
                int dOff = ii == last ? p : 0;
                if (unary[ii] != null) unary[ii].apply(sa[0], so[0], ss[0], d, dOff, n);
                else if (binary[ii] != null) binary[ii].apply(sa[0], so[0], ss[0], sa[1], so[1], ss[1], d, dOff, n);
                else BlockOps.where(sa[0], so[0], ss[0], sa[1], so[1], ss[1], sa[2], so[2], ss[2], d, dOff, n);
            }
        }
    }
}
