package dev.kiln.backend.cpu;

import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.gemm.Gemm;
import dev.kiln.backend.cpu.gemm.GemmProvider;
import dev.kiln.backend.cpu.parallel.Parallel;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Shapes;
import dev.kiln.backend.shape.TensorType;
import java.util.Arrays;
import java.util.Map;

/** matmul (NumPy semantics, batched with broadcasting) and addmm, on the packed GEMM. */
final class LinalgKernels {
    private LinalgKernels() {}

    private static final Gemm GEMM = GemmProvider.get();
    private static final dev.kiln.backend.cpu.vector.FloatRows ROWS = dev.kiln.backend.cpu.vector.VectorSupport.floatRows();
    /** Up to this many output rows, a product with a transposed row-major B runs as row dot products. */
    private static final int SMALL_M = 4;

    static void register(Map<Op, CpuKernel> k, Map<Op, IntoKernel> into) {
        k.put(Op.MATMUL, (in, a, out) -> matmul(in[0], in[1], out, null));
        into.put(Op.MATMUL, LinalgKernels::matmulInto);
        k.put(Op.ADDMM, (in, a, out) -> {
            int[] shape = out.concreteShape();
            Strided c = Strided.allocate(out.dtype(), shape);
            Copy.copyInto(in[0], c); // bias broadcast into C, then C += A @ B
            mm(in[1], in[2], c, 0, true);
            return c;
        });
    }

    /**
     * matmul into dest (contiguous, offset 0, of out's dtype and shape; a compiled plan's arena
     * slot), when no input shares dest's memory: every output element reads whole rows of A and
     * columns of B, so writing over an input would change what is still to be read.
     */
    private static boolean matmulInto(Strided[] in, Attrs a, TensorType out, Strided dest) {
        if (dest.offset() != 0) return false; // matmul writes its own offset-0 view of dest's storage
        for (Strided x : in) if (x.storage() == dest.storage()) return false;
        matmul(in[0], in[1], out, dest);
        return true;
    }

    /** x @ y into dest, or into a new buffer when dest is null; every element of the result is written. */
    private static Strided matmul(Strided x, Strided y, TensorType outT, Strided dest) {
        boolean xVec = x.rank() == 1, yVec = y.rank() == 1;
        Strided a = xVec ? unitView(x, true) : x;
        Strided b = yVec ? unitView(y, false) : y;
        int ra = a.rank(), rb = b.rank();
        int m = a.shape()[ra - 2], kk = a.shape()[ra - 1], n = b.shape()[rb - 1];
        int[] batch = Shapes.broadcast("matmul", Arrays.copyOf(a.shape(), ra - 2), Arrays.copyOf(b.shape(), rb - 2));
        int[] outShape = Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        Strided c = dest != null ? Strided.contiguous(dest.storage(), outShape) : Strided.allocate(outT.dtype(), outShape);
        int[] abs = Shapes.broadcastStrides(Arrays.copyOf(a.shape(), ra - 2), Arrays.copyOf(a.strides(), ra - 2), batch);
        int[] bbs = Shapes.broadcastStrides(Arrays.copyOf(b.shape(), rb - 2), Arrays.copyOf(b.strides(), rb - 2), batch);
        int count = Shapes.numelInt(batch);
        if (count > 1 && foldsIntoRows(a, batch, bbs)) {
            // [.., m, k] @ [k, n] with a's batch and row dims one evenly strided run (x W^T of a
            // linear layer on [B, T, C]): one GEMM of count*m rows instead of count small ones,
            // each paying its own packing of B and its own parallel hand-off
            Strided at = a.asRows();
            Strided bt = new Strided(b.storage(), new int[] {kk, n}, new int[] {b.strides()[rb - 2], b.strides()[rb - 1]}, b.offset());
            mm(at, bt, c, 0, false);
            return Strided.contiguous(c.storage(), outT.concreteShape());
        }
        // one whole GEMM per batch index, the indices spread over the pool (attention's
        // [B, H, T, T] products: 128 GEMMs of ~1 MFLOP, each of which would otherwise be split in
        // two with a hand-off of its own). Each product is computed whole by one thread, with the
        // bits of a serial GEMM, so the result does not depend on who computed it. Only when the
        // indices share out evenly (a few large products, 3 on 2 threads, are better split each)
        // and the whole is worth a hand-off (a decoding step's [1, H, 1, hd] @ [1, H, hd, S] is not).
        int threads = Parallel.threads();
        boolean overBatch = threads > 1 && count > 1 && (count % threads == 0 || count >= 4 * threads)
                && (long) count * m * n * kk >= BatchSplit.PARALLEL_WORK;
        Parallel.Range one = (part, t, next) -> { // each range is the one index t
            int ao = a.offset(), bo = b.offset(), rest = t;
            for (int d = batch.length - 1; d >= 0; d--) {
                int i = rest % batch[d];
                rest /= batch[d];
                ao += i * abs[d];
                bo += i * bbs[d];
            }
            Strided at = new Strided(a.storage(), new int[] {m, kk}, new int[] {a.strides()[ra - 2], a.strides()[ra - 1]}, ao);
            Strided bt = new Strided(b.storage(), new int[] {kk, n}, new int[] {b.strides()[rb - 2], b.strides()[rb - 1]}, bo);
            mm(at, bt, c, t * m * n, false);
        };
        Parallel.forRanges(count, count, 1, overBatch, one);
        // drop the unit dims that 1-D operands were promoted with
        return Strided.contiguous(c.storage(), outT.concreteShape());
    }

    /**
     * True when B is the same matrix for every batch index (broadcast) and A's own batch dims and
     * its row dim step through memory as one run of count*m rows ({@link Strided#asRows}).
     */
    private static boolean foldsIntoRows(Strided a, int[] batch, int[] bbs) {
        for (int s : bbs) if (s != 0) return false;
        int ra = a.rank();
        // a broadcast A (fewer batch elements than the product's) repeats rows: not one run
        if (Shapes.numelInt(Arrays.copyOf(a.shape(), ra - 2)) != Shapes.numelInt(batch)) return false;
        return a.shape()[ra - 2] > 0 && a.asRows() != null;
    }

    private static Strided unitView(Strided v, boolean row) {
        int n = v.shape()[0], s = v.strides()[0];
        return row ? new Strided(v.storage(), new int[] {1, n}, new int[] {n * s, s}, v.offset())
                : new Strided(v.storage(), new int[] {n, 1}, new int[] {s, 1}, v.offset());
    }

    /** C (contiguous rows at cOff) (+)= A @ B for 2-D strided A, B. */
    private static void mm(Strided a, Strided b, Strided c, int cOff, boolean accumulate) {
        int m = a.shape()[0], k = a.shape()[1], n = b.shape()[1];
        int ars = a.strides()[0], acs = a.strides()[1], brs = b.strides()[0], bcs = b.strides()[1];
        switch (c.dtype()) {
            case FLOAT32 -> {
                if (m <= SMALL_M && acs == 1 && brs == 1 && k > 0) {
                    // a few rows against a transposed row-major weight (x @ W.t() at batch 1): dot
                    // products of contiguous rows; packing all of W for so few rows would cost more
                    // than the multiply itself
                    ROWS.dotRows(m, n, k, a.storage().f32(), a.offset(), ars, b.storage().f32(), b.offset(), bcs,
                            c.storage().f32(), cOff, n, accumulate);
                } else {
                    GEMM.sgemm(m, n, k, a.storage().f32(), a.offset(), ars, acs, b.storage().f32(), b.offset(), brs, bcs,
                            c.storage().f32(), cOff, n, accumulate);
                }
            }
            case FLOAT64 -> GEMM.dgemm(m, n, k, a.storage().f64(), a.offset(), ars, acs, b.storage().f64(), b.offset(), brs, bcs,
                    c.storage().f64(), cOff, n, accumulate);
            case INT64 -> {
                long[] x = a.storage().i64(), y = b.storage().i64(), o = c.storage().i64();
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        long s = 0;
                        for (int p = 0; p < k; p++) s += x[a.offset() + i * ars + p * acs] * y[b.offset() + p * brs + j * bcs];
                        o[cOff + i * n + j] = accumulate ? o[cOff + i * n + j] + s : s;
                    }
                }
            }
            default -> throw new IllegalStateException("matmul on " + c.dtype());
        }
    }

}
