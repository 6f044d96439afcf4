package dev.kiln.backend.cuda;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cuda.CudaExecutor.OpScope;
import dev.kiln.backend.cuda.KernelArgs.Ptr;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;

/**
 * Convolution and pooling on CUDA: im2col + the tiled GEMM (conv2d and its weight gradient),
 * GEMM + col2im (conv_transpose2d, which is conv2d's input gradient), and the max-pool index
 * kernel. groups > 1 has no CUDA path yet and says so.
 */
final class ConvOps {
    private ConvOps() {}

    /** KConv / KPool of im2col.cu and pool.cu: C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo. */
    static int[] geometry(int c, int h, int w, int[] k, Attrs a, int ho, int wo) {
        int[] st = a.getInts("stride"), pad = a.getInts("padding"), dil = a.getInts("dilation");
        return new int[] {c, h, w, k[0], k[1], st[0], st[1], pad[0], pad[1], dil[0], dil[1], ho, wo};
    }

    private static void requireOneGroup(CudaExecutor ex, Op op, Attrs a) {
        if (a.getInt("groups") != 1) {
            throw new UnsupportedOperationException(op.opName() + " on " + ex.deviceName() + ": groups = " + a.getInt("groups")
                    + " has no CUDA kernel yet (only groups = 1)");
        }
    }

    private static String sfx(DType t) { return CudaExecutor.suffix(t); }

    /** cols [N, C*kh*kw, Ho*Wo] of a contiguous x; returns its address. */
    private static long im2col(CudaExecutor ex, long x, DType t, int n, int[] g, OpScope s) {
        long total = (long) n * g[0] * g[3] * g[4] * g[11] * g[12];
        long cols = ex.temp(s, total * t.itemSize());
        ex.launch1(CudaKernelSources.IM2COL, "kiln_im2col_" + sfx(t), total, (int) total, new Ptr(x), g, new Ptr(cols));
        return cols;
    }

    static void conv2d(CudaExecutor ex, Strided[] in, Attrs a, Strided out, long dst, OpScope s) {
        requireOneGroup(ex, Op.CONV2D, a);
        DType t = out.dtype();
        ex.requireFloat(Op.CONV2D, t);
        int[] xs = in[0].shape(), ws = in[1].shape(), os = out.shape();
        int n = xs[0], o = ws[0], ckk = ws[1] * ws[2] * ws[3], hw = os[2] * os[3];
        int[] g = geometry(xs[1], xs[2], xs[3], new int[] {ws[2], ws[3]}, a, os[2], os[3]);
        long cols = im2col(ex, ex.contiguous(in[0], t, s), t, n, g, s);
        long w = ex.contiguous(in[1], t, s);
        int accumulate = 0;
        if (in.length == 3) { // bias [O] broadcast over [N, O, Ho, Wo], then out += w @ cols
            Strided bias = new Strided(in[2].storage(), new int[] {1, o, 1, 1}, new int[] {0, in[2].strides()[0], 0, 0}, in[2].offset());
            ex.cast(bias, os, t, dst);
            accumulate = 1;
        }
        ex.gemm(t, o, hw, ckk, CudaExecutor.view2d(w, ckk, 1), 0, CudaExecutor.view2d(cols, hw, 1), (long) ckk * hw, dst, (long) o * hw, n, accumulate);
    }

    static void weightGrad(CudaExecutor ex, Strided[] in, Attrs a, Strided out, long dst, OpScope s) {
        requireOneGroup(ex, Op.CONV2D_WEIGHT_GRAD, a);
        DType t = out.dtype();
        ex.requireFloat(Op.CONV2D_WEIGHT_GRAD, t);
        int[] xs = in[0].shape(), gs = in[1].shape(), k = a.getInts("kernel_size");
        int n = xs[0], o = gs[1], ckk = xs[1] * k[0] * k[1], hw = gs[2] * gs[3];
        int[] g = geometry(xs[1], xs[2], xs[3], k, a, gs[2], gs[3]);
        long cols = im2col(ex, ex.contiguous(in[0], t, s), t, n, g, s);
        long grad = ex.contiguous(in[1], t, s);
        // per sample: part[n] = g[n] [O, HoWo] @ cols[n]^T [HoWo, CKK]; then a fixed-order sum over n
        long part = ex.temp(s, (long) n * o * ckk * t.itemSize());
        ex.gemm(t, o, ckk, hw, CudaExecutor.view2d(grad, hw, 1), (long) o * hw, CudaExecutor.view2d(cols, 1, hw), (long) ckk * hw, part,
                (long) o * ckk, n, 0);
        int rows = o * ckk;
        ex.gpu().launch(ex.gpu().kernel(CudaKernelSources.REDUCE, "kiln_reduce_" + sfx(t)), Math.max(1, Math.min(rows, 65535)), 1, 1, 256,
                CudaOpCodes.REDUCE.get(Op.SUM), rows, n, KernelLayouts.shape(new int[] {rows, n}), new Ptr(part),
                KernelLayouts.strides(new int[] {1, rows}), 0, new Ptr(dst));
    }

    static void convTranspose2d(CudaExecutor ex, Strided[] in, Attrs a, Strided out, long dst, OpScope s) {
        requireOneGroup(ex, Op.CONV_TRANSPOSE2D, a);
        DType t = out.dtype();
        ex.requireFloat(Op.CONV_TRANSPOSE2D, t);
        int[] xs = in[0].shape(), ws = in[1].shape(), os = out.shape();
        int n = xs[0], cin = xs[1], hw = xs[2] * xs[3], coutkk = ws[1] * ws[2] * ws[3];
        long x = ex.contiguous(in[0], t, s), w = ex.contiguous(in[1], t, s);
        // cols[n] [Cout*kh*kw, H*W] = w^T @ x[n], then col2im into [N, Cout, Hout, Wout]
        long cols = ex.temp(s, (long) n * coutkk * hw * t.itemSize());
        ex.gemm(t, coutkk, hw, cin, CudaExecutor.view2d(w, 1, coutkk), 0, CudaExecutor.view2d(x, hw, 1), (long) cin * hw, cols, (long) coutkk * hw, n, 0);
        int[] g = geometry(os[1], os[2], os[3], new int[] {ws[2], ws[3]}, a, xs[2], xs[3]);
        long total = out.numel();
        ex.launch1(CudaKernelSources.IM2COL, "kiln_col2im_" + sfx(t), total, (int) total, new Ptr(cols), g, new Ptr(dst));
        if (in.length == 3) { // out += bias[c], read and written at the same index: safe in place
            CudaExecutor.View result = new CudaExecutor.View(new Ptr(dst), KernelLayouts.strides(dev.kiln.backend.shape.Shapes.contiguousStrides(os)), 0);
            CudaExecutor.View bias = new CudaExecutor.View(new Ptr(ex.contiguous(in[2], t, s)), KernelLayouts.strides(new int[] {0, 1, 0, 0}), 0);
            ex.elementwiseViews(Op.ADD, Attrs.EMPTY, t, os, new CudaExecutor.View[] {result, bias}, dst);
        }
    }

    static void maxPoolIndices(CudaExecutor ex, Strided x, Attrs a, Strided out, long dst, OpScope s) {
        DType t = x.dtype();
        ex.requireFloat(Op.MAX_POOL2D_INDICES, t);
        int[] xs = x.shape(), os = out.shape();
        int[] g = geometry(xs[1], xs[2], xs[3], a.getInts("kernel_size"), a, os[2], os[3]);
        long total = out.numel();
        ex.launch1(CudaKernelSources.POOL, "kiln_maxpool_indices_" + sfx(t), total, (int) total, new Ptr(ex.contiguous(x, t, s)), g, new Ptr(dst));
    }
}
