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
 * conv2d, conv_transpose2d and conv2d_weight_grad as im2col/col2im + GEMM, one sample and
 * group at a time (the GEMM then writes straight into the NCHW output, no transpose). Each
 * batch chunk owns one fresh column buffer, reused for all its samples and groups: its padding
 * cells stay zero, so {@link Im2Col#unfold} only copies image rows.
 */
final class ConvKernels {
    private ConvKernels() {}

    private static final FloatRows ROWS = VectorSupport.floatRows();

    /** Column elements per weight-gradient block (~512 KiB of float32: stays in L2 with its gradient rows). */
    static final int WEIGHT_GRAD_COLUMNS = 1 << 17;

    static void register(Map<Op, CpuKernel> k) {
        k.put(Op.CONV2D, ConvKernels::conv2d);
        k.put(Op.CONV_TRANSPOSE2D, ConvKernels::convTranspose2d);
        k.put(Op.CONV2D_WEIGHT_GRAD, ConvKernels::weightGrad);
    }

    private static Strided dense(Strided s, DType t) { return Copy.denseOf(s, t); }

    private static Object data(Strided s) { return s.storage().array(); }

    private static Strided conv2d(Strided[] in, Attrs a, TensorType outT) {
        DType dt = outT.dtype();
        Strided x = dense(in[0], dt), w = dense(in[1], dt);
        int[] xs = x.shape(), ws = w.shape(), os = outT.concreteShape();
        int groups = a.getInt("groups"), n = xs[0], c = xs[1], o = os[1];
        int cg = c / groups, og = o / groups;
        Im2Col geo = geometry(cg, xs[2], xs[3], os[2], os[3], ws[2], ws[3], a);
        int k = geo.rows(), l = geo.cols();
        Strided out = Strided.allocate(dt, os);
        Object xa = data(x), wa = data(w), oa = data(out);
        Strided b = in.length > 2 ? dense(in[2], dt) : null;
        BatchSplit.run(n, (long) o * k * l, (chunk, from, to) -> {
            Object col = RowOps.allocate(oa, k * l);
            for (int s = from; s < to; s++) {
                for (int g = 0; g < groups; g++) {
                    geo.unfold(xa, x.offset() + (s * c + g * cg) * xs[2] * xs[3], col, 0, l);
                    int co = (s * o + g * og) * l;
                    if (b != null) for (int r = 0; r < og; r++) RowOps.fill(oa, co + r * l, l, data(b), b.offset() + (g * og + r) * b.strides()[0]);
                    RowOps.gemm(og, l, k, wa, w.offset() + g * og * k, k, 1, col, 0, l, 1, oa, co, l, b != null);
                }
            }
        });
        return out;
    }

    /** x [N,Cin,H,W], w [Cin,Cout/g,kh,kw]: columns = w^T x per sample and group, folded into the output. */
    private static Strided convTranspose2d(Strided[] in, Attrs a, TensorType outT) {
        DType dt = outT.dtype();
        Strided x = dense(in[0], dt), w = dense(in[1], dt);
        int[] xs = x.shape(), ws = w.shape(), os = outT.concreteShape();
        int groups = a.getInt("groups"), n = xs[0], cin = xs[1], cout = os[1];
        int cing = cin / groups, coutg = cout / groups;
        // the output image is the "image" side of im2col and the input grid its window positions
        Im2Col geo = geometry(coutg, os[2], os[3], xs[2], xs[3], ws[2], ws[3], a);
        int k = geo.rows(), l = geo.cols(), planeOut = os[2] * os[3];
        Strided out = Strided.allocate(dt, os);
        Object xa = data(x), wa = data(w), oa = data(out);
        BatchSplit.run(n, (long) cin * k * l, (chunk, from, to) -> {
            Object col = RowOps.allocate(oa, k * l);
            for (int s = from; s < to; s++) {
                for (int g = 0; g < groups; g++) {
                    RowOps.gemm(k, l, cing, wa, w.offset() + g * cing * k, 1, k, xa, x.offset() + (s * cin + g * cing) * l, l, 1, col, 0, l, false);
                    geo.fold(col, 0, l, oa, (s * cout + g * coutg) * planeOut);
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
     * dW[g] = sum over samples of gOut[s, g] [Og x L] @ im2col(x[s, g])^T [L x K]. Samples are
     * taken a block at a time with their columns side by side ([K x S*L], and the gradient
     * planes copied to [Og x S*L]), so each dot product runs over S*L elements: a 10x10 map
     * alone gives rows too short to amortize the vector reductions. Blocks run as BatchSplit
     * chunks with per-chunk partial sums added in chunk order; the block size depends only on
     * the shapes, so results do not depend on the thread count.
     */
    private static Strided weightGrad(Strided[] in, Attrs a, TensorType outT) {
        DType dt = outT.dtype();
        Strided x = dense(in[0], dt), gr = dense(in[1], dt);
        int[] xs = x.shape(), gs = gr.shape(), os = outT.concreteShape();
        int groups = a.getInt("groups"), n = xs[0], c = xs[1], o = gs[1];
        int cg = c / groups, og = o / groups, plane = xs[2] * xs[3];
        Im2Col geo = geometry(cg, xs[2], xs[3], gs[2], gs[3], os[2], os[3], a);
        int k = geo.rows(), l = geo.cols();
        int bs = (int) Math.max(1, Math.min((n + 1) / 2, WEIGHT_GRAD_COLUMNS / Math.max(1L, (long) k * l)));
        int blocks = (n + bs - 1) / bs;
        Strided out = Strided.allocate(dt, os);
        Object xa = data(x), ga = data(gr), oa = data(out);
        Object[] partial = new Object[BatchSplit.chunks(blocks)];
        BatchSplit.run(blocks, (long) bs * o * k * l, (chunk, from, to) -> {
            // fresh buffers: the padding cells of col stay zero for every block (see Im2Col.unfold)
            Object col = RowOps.allocate(oa, k * bs * l), gb = RowOps.allocate(oa, og * bs * l), acc = RowOps.allocate(oa, o * k);
            for (int blk = from; blk < to; blk++) {
                int s0 = blk * bs, s1 = Math.min(n, s0 + bs), ld = (s1 - s0) * l;
                for (int g = 0; g < groups; g++) {
                    for (int s = s0; s < s1; s++) geo.unfold(xa, x.offset() + (s * c + g * cg) * plane, col, (s - s0) * l, ld);
                    for (int r = 0; r < og; r++) {
                        for (int s = s0; s < s1; s++) System.arraycopy(ga, gr.offset() + (s * o + g * og + r) * l, gb, r * ld + (s - s0) * l, l);
                    }
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
