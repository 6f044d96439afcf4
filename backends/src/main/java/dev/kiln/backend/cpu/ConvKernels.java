package dev.kiln.backend.cpu;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.vector.FloatRows;
import dev.kiln.backend.cpu.vector.VectorSupport;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import java.util.Map;

/**
 * conv2d, conv_transpose2d and conv2d_weight_grad as im2col/col2im + GEMM (in float32 with few
 * taps per output, stride 1 and no dilation, all three run as {@link DirectConv} instead). Samples are taken
 * a block at a time with their column matrices side by side ([K x S*L]), so each conv group of
 * a block is one wide product: a 10x10 or 28x28 map alone makes GEMMs so narrow that packing
 * and ragged edges cost more than the arithmetic (measured: a 150x100x16 product runs at
 * ~30 GFLOP/s, 150x800x16 at ~78). NCHW planes are copied to and from the block layout row by
 * row.
 *
 * <p>The block size depends only on the shapes, blocks run as {@link BatchSplit} chunks, and
 * weight-gradient partial sums are added in chunk order, so results do not depend on the
 * thread count. Each chunk owns column buffers reused for all its blocks and groups
 * ({@link Im2Col.Columns}: im2col copies only image rows and leaves the padding cells zero).
 */
final class ConvKernels {
    private ConvKernels() {}

    private static final FloatRows ROWS = VectorSupport.floatRows();

    /** Column elements per block (~512 KiB of float32: the block's columns stay in L2). */
    static final int BLOCK_COLUMNS = 1 << 17;

    static void register(Map<Op, CpuKernel> k) {
        k.put(Op.CONV2D, ConvKernels::conv2d);
        k.put(Op.CONV_TRANSPOSE2D, ConvKernels::convTranspose2d);
        k.put(Op.CONV2D_WEIGHT_GRAD, ConvKernels::weightGrad);
    }

    private static Strided dense(Strided s, DType t) { return Copy.denseOf(s, t); }

    private static Object data(Strided s) { return s.storage().array(); }

    /** Samples per block: as many as fit the column budget, at most half the batch so both cores get work. */
    static int blockSize(int n, int k, int l) {
        return (int) Math.max(1, Math.min((n + 1) / 2, BLOCK_COLUMNS / Math.max(1L, (long) k * l)));
    }

    /** Copies planes [c0, c0+rows) of samples [s0, s1) of an NCHW array into [rows x (s1-s0)*l], or back. */
    private static void planes(Object nchw, int off, int channels, int c0, int rows, int s0, int s1, int l, Object block, boolean toBlock) {
        int ld = (s1 - s0) * l;
        for (int r = 0; r < rows; r++) {
            for (int s = s0; s < s1; s++) {
                int at = off + (s * channels + c0 + r) * l, bt = r * ld + (s - s0) * l;
                if (toBlock) System.arraycopy(nchw, at, block, bt, l);
                else System.arraycopy(block, bt, nchw, at, l);
            }
        }
    }

    private static Strided conv2d(Strided[] in, Attrs a, TensorType outT) {
        DType dt = outT.dtype();
        Strided x = dense(in[0], dt), w = dense(in[1], dt);
        int[] xs = x.shape(), ws = w.shape(), os = outT.concreteShape();
        int groups = a.getInt("groups"), n = xs[0], c = xs[1], o = os[1];
        Strided b = in.length > 2 ? dense(in[2], dt) : null;
        if (DirectConv.applies(dt, groups, c, new int[] {ws[2], ws[3]}, a.getInts("stride"), a.getInts("dilation"))) {
            return DirectConv.conv2d(x, w, b, groups, a.getInts("padding"), outT);
        }
        int cg = c / groups, og = o / groups, plane = xs[2] * xs[3];
        Im2Col geo = geometry(cg, xs[2], xs[3], os[2], os[3], ws[2], ws[3], a);
        int k = geo.rows(), l = geo.cols(), bs = blockSize(n, k, l), blocks = (n + bs - 1) / bs;
        Strided out = Strided.allocate(dt, os);
        Object xa = data(x), wa = data(w), oa = data(out);
        BatchSplit.run(blocks, (long) bs * o * k * l, (chunk, from, to) -> {
            Im2Col.Columns cols = geo.columns(oa, bs);
            Object col = cols.data, y = RowOps.allocate(oa, og * bs * l);
            for (int blk = from; blk < to; blk++) {
                int s0 = blk * bs, s1 = Math.min(n, s0 + bs), ld = (s1 - s0) * l;
                for (int g = 0; g < groups; g++) {
                    geo.unfoldBlock(xa, x.offset() + (s0 * c + g * cg) * plane, c * plane, s1 - s0, cols);
                    if (b != null) for (int r = 0; r < og; r++) RowOps.fill(y, r * ld, ld, data(b), b.offset() + (g * og + r) * b.strides()[0]);
                    RowOps.gemm(og, ld, k, wa, w.offset() + g * og * k, k, 1, col, 0, ld, 1, y, 0, ld, b != null);
                    planes(oa, 0, o, g * og, og, s0, s1, l, y, false);
                }
            }
        });
        return out;
    }

    /** x [N,Cin,H,W], w [Cin,Cout/g,kh,kw]: columns = w^T x per block and group, folded into the output. */
    private static Strided convTranspose2d(Strided[] in, Attrs a, TensorType outT) {
        DType dt = outT.dtype();
        Strided x = dense(in[0], dt), w = dense(in[1], dt);
        int[] xs = x.shape(), ws = w.shape(), os = outT.concreteShape();
        int groups = a.getInt("groups"), n = xs[0], cin = xs[1], cout = os[1];
        if (DirectConv.appliesTranspose(dt, groups, cin, new int[] {ws[2], ws[3]}, a)) {
            return DirectConv.convTranspose2d(x, w, in.length > 2 ? dense(in[2], dt) : null, groups, a.getInts("padding"), outT);
        }
        int cing = cin / groups, coutg = cout / groups;
        // the output image is the "image" side of im2col and the input grid its window positions
        Im2Col geo = geometry(coutg, os[2], os[3], xs[2], xs[3], ws[2], ws[3], a);
        int k = geo.rows(), l = geo.cols(), planeOut = os[2] * os[3], bs = blockSize(n, k, l), blocks = (n + bs - 1) / bs;
        Strided out = Strided.allocate(dt, os);
        Object xa = data(x), wa = data(w), oa = data(out);
        BatchSplit.run(blocks, (long) bs * cin * k * l, (chunk, from, to) -> {
            Object col = RowOps.allocate(oa, k * bs * l), xb = RowOps.allocate(oa, cing * bs * l);
            for (int blk = from; blk < to; blk++) {
                int s0 = blk * bs, s1 = Math.min(n, s0 + bs), ld = (s1 - s0) * l;
                for (int g = 0; g < groups; g++) {
                    planes(xa, x.offset(), cin, g * cing, cing, s0, s1, l, xb, true);
                    RowOps.gemm(k, ld, cing, wa, w.offset() + g * cing * k, 1, k, xb, 0, ld, 1, col, 0, ld, false);
                    for (int s = s0; s < s1; s++) geo.fold(col, (s - s0) * l, ld, oa, (s * cout + g * coutg) * planeOut);
                }
            }
        });
        if (in.length > 2) {
            Strided b = dense(in[2], dt);
            Object bias = RowOps.allocate(oa, planeOut);
            for (int s = 0; s < n; s++) {
                for (int ch = 0; ch < cout; ch++) {
                    RowOps.fill(bias, 0, planeOut, data(b), b.offset() + ch * b.strides()[0]);
                    RowOps.add(bias, 0, oa, (s * cout + ch) * planeOut, 1, planeOut);
                }
            }
        }
        return out;
    }

    /**
     * dW[g] = sum over blocks of gOut[block, g] [Og x S*L] @ im2col(x[block, g])^T [S*L x K],
     * per chunk, then the chunk partials summed in chunk order. Each dot product runs over S*L
     * elements (a 10x10 map alone gives rows too short to amortize the vector reductions).
     */
    private static Strided weightGrad(Strided[] in, Attrs a, TensorType outT) {
        DType dt = outT.dtype();
        Strided x = dense(in[0], dt), gr = dense(in[1], dt);
        int[] xs = x.shape(), gs = gr.shape(), os = outT.concreteShape();
        int groups = a.getInt("groups"), n = xs[0], c = xs[1], o = gs[1];
        if (DirectConv.applies(dt, groups, c, new int[] {os[2], os[3]}, a.getInts("stride"), a.getInts("dilation"))) {
            Strided direct = DirectConv.weightGrad(x, gr, groups, a.getInts("padding"), outT);
            // the direct sums also multiply input cells outside every window by a zero gradient;
            // an Inf or NaN there gives NaN where the windows alone give a number: recompute below
            if (DirectConv.allFinite(direct)) return direct;
        }
        int cg = c / groups, og = o / groups, plane = xs[2] * xs[3];
        Im2Col geo = geometry(cg, xs[2], xs[3], gs[2], gs[3], os[2], os[3], a);
        int k = geo.rows(), l = geo.cols();
        int bs = blockSize(n, k, l), blocks = (n + bs - 1) / bs;
        Strided out = Strided.allocate(dt, os);
        Object xa = data(x), ga = data(gr), oa = data(out);
        Object[] partial = new Object[BatchSplit.chunks(blocks)];
        BatchSplit.run(blocks, (long) bs * o * k * l, (chunk, from, to) -> {
            Im2Col.Columns cols = geo.columns(oa, bs);
            Object col = cols.data, gb = RowOps.allocate(oa, og * bs * l), acc = RowOps.allocate(oa, o * k);
            for (int blk = from; blk < to; blk++) {
                int s0 = blk * bs, s1 = Math.min(n, s0 + bs), ld = (s1 - s0) * l;
                for (int g = 0; g < groups; g++) {
                    geo.unfoldBlock(xa, x.offset() + (s0 * c + g * cg) * plane, c * plane, s1 - s0, cols);
                    planes(ga, gr.offset(), o, g * og, og, s0, s1, l, gb, true);
                    if (acc instanceof float[] af) {
                        // both operands are long contiguous rows: dot products, where the GEMM would transpose-pack col
                        ROWS.dotRows(og, k, ld, (float[]) gb, 0, ld, (float[]) col, 0, ld, af, g * og * k, k, true);
                    } else {
                        RowOps.gemm(og, k, ld, gb, 0, ld, 1, col, 0, 1, ld, acc, g * og * k, k, true);
                    }
                }
            }
            partial[chunk] = acc;
        });
        for (Object p : partial) RowOps.accumulate(p, oa, o * k);
        return out;
    }

    private static Im2Col geometry(int channels, int ih, int iw, int gh, int gw, int kh, int kw, Attrs a) {
        int[] s = a.getInts("stride"), p = a.getInts("padding"), d = a.getInts("dilation");
        return new Im2Col(channels, ih, iw, gh, gw, kh, kw, s[0], s[1], p[0], p[1], d[0], d[1]);
    }
}
