package dev.kiln.backend.cuda;

import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cuda.CudaExecutor.OpScope;
import dev.kiln.backend.cuda.KernelArgs.Ptr;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;

/**
 * index_select (the embedding lookup), gather and scatter_add on CUDA. Operands are made
 * contiguous and viewed as [outer, size, inner] around dim; the kernels report an
 * out-of-range index through a device flag, raised here as an error naming the op.
 */
final class IndexOps {
    private IndexOps() {}

    private static final long NO_ERROR = Long.MIN_VALUE;

    static void run(CudaExecutor ex, Op op, Strided[] in, Attrs a, Strided out, long dst, OpScope s) {
        DType t = out.dtype();
        ex.requireFloat(op, t);
        Strided x = in[0];
        int rank = Math.max(x.rank(), 1);
        int dim = Math.floorMod(a.getInt("dim"), rank);
        int[] xs = x.rank() == 0 ? new int[] {1} : x.shape();
        int outer = 1, inner = 1;
        for (int d = 0; d < dim; d++) outer *= xs[d];
        for (int d = dim + 1; d < xs.length; d++) inner *= xs[d];
        int size = xs[dim];
        long err = ex.temp(s, 8);
        ex.launch1(CudaKernelSources.ELEMENTWISE, "kiln_fill_i64", 1, 1, NO_ERROR, new Ptr(err));
        String sfx = CudaExecutor.suffix(t);
        switch (op) {
            case INDEX_SELECT -> {
                long idx = ex.contiguous(in[1], DType.INT64, s);
                int k = in[1].numel(), total = out.numel();
                ex.launch1(CudaKernelSources.GATHER, "kiln_index_select_" + sfx, total, total, new Ptr(ex.contiguous(x, t, s)), new Ptr(idx), size, k,
                        inner, new Ptr(dst), new Ptr(err));
            }
            case GATHER -> {
                requireSameOuterInner(ex, op, in[1], dim, outer, inner);
                long idx = ex.contiguous(in[1], DType.INT64, s);
                int total = out.numel(), k = in[1].rank() == 0 ? 1 : in[1].shape()[dim];
                ex.launch1(CudaKernelSources.GATHER, "kiln_gather_" + sfx, total, total, new Ptr(ex.contiguous(x, t, s)), new Ptr(idx), size, k, inner,
                        new Ptr(dst), new Ptr(err));
            }
            default -> { // SCATTER_ADD: out starts as a copy of self, then src is added at idx
                requireSameOuterInner(ex, op, in[1], dim, outer, inner);
                ex.cast(x, out.shape(), t, dst);
                long idx = ex.contiguous(in[1], DType.INT64, s);
                int total = in[1].numel(), k = in[1].rank() == 0 ? 1 : in[1].shape()[dim];
                ex.launch1(CudaKernelSources.GATHER, "kiln_scatter_add_" + sfx, total, total, new Ptr(ex.contiguous(in[2], t, s)), new Ptr(idx), size, k,
                        inner, new Ptr(dst), new Ptr(err));
            }
        }
        Storage flag = Storage.allocate(DType.INT64, 1);
        ex.gpu().download(new DeviceBlock(err, 8, 8), flag);
        if (flag.i64()[0] != NO_ERROR) {
            throw new IndexOutOfBoundsException(op.opName() + " on " + ex.deviceName() + ": index " + flag.i64()[0] + " is out of range for dim " + dim
                    + " of size " + size);
        }
    }

    /**
     * The kernels view index as [outer, k, inner] with x's outer and inner sizes; torch allows
     * a smaller index in other dims too, which has no CUDA path yet.
     */
    private static void requireSameOuterInner(CudaExecutor ex, Op op, Strided index, int dim, int outer, int inner) {
        int o = 1, i = 1;
        for (int d = 0; d < dim; d++) o *= index.shape()[d];
        for (int d = dim + 1; d < index.rank(); d++) i *= index.shape()[d];
        if (o != outer || i != inner) {
            throw new UnsupportedOperationException(op.opName() + " on " + ex.deviceName()
                    + ": an index smaller than the input outside dim " + dim + " has no CUDA kernel yet");
        }
    }
}
