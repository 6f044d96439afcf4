package dev.kiln.backend.cpu;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.ShapeException;
import dev.kiln.backend.shape.Shapes;
import dev.kiln.backend.shape.TensorType;
import java.util.Map;

/** Data movement and indexing: cat, pad, index_select, gather, scatter_add, tril/triu, flip, repeat, sorting. */
final class IndexKernels {
    private IndexKernels() {}

    static void register(Map<Op, CpuKernel> k, Map<Op, IntoKernel> into) {
        k.put(Op.CAT, (in, a, out) -> cat(in, a, out, Strided.allocate(out.dtype(), out.concreteShape())));
        // into a compiled plan's arena slot (a split's gradient joined, 6 MiB per GPT block): the
        // pieces tile the output, so every element is written
        into.put(Op.CAT, (in, a, out, dest) -> {
            for (Strided x : in) if (x.storage() == dest.storage()) return false;
            cat(in, a, out, dest);
            return true;
        });
        k.put(Op.PAD, IndexKernels::pad);
        k.put(Op.INDEX_SELECT, IndexKernels::indexSelect);
        k.put(Op.GATHER, IndexKernels::gather);
        k.put(Op.SCATTER_ADD, IndexKernels::scatterAdd);
        k.put(Op.TRIL, (in, a, out) -> triangle(in[0], a.getInt("diagonal"), true));
        k.put(Op.TRIU, (in, a, out) -> triangle(in[0], a.getInt("diagonal"), false));
        k.put(Op.FLIP, IndexKernels::flip);
        k.put(Op.REPEAT, IndexKernels::repeat);
        k.put(Op.ARGSORT, (in, a, out) -> sortIndices(in[0], a.getInt("dim"), a.getBool("descending"), -1));
        k.put(Op.TOPK_INDICES, (in, a, out) -> sortIndices(in[0], a.getInt("dim"), a.getBool("largest"), a.getInt("k")));
        k.put(Op.ONE_HOT, IndexKernels::oneHot);
        k.put(Op.SIZE, (in, a, out) -> {
            long n = 1;
            for (int d : dev.kiln.backend.op.ShapeRules.reductionDims("size", in[0].rank(), a.getInts("dims"))) n *= in[0].shape()[d];
            Strided r = Strided.allocate(DType.INT64, new int[0]);
            r.storage().i64()[0] = n;
            return r;
        });
    }

    /** A view of {@code x} narrowed to [start, start+len) along dim. */
    static Strided narrow(Strided x, int dim, int start, int len) {
        int[] shape = x.shape().clone();
        shape[dim] = len;
        return new Strided(x.storage(), shape, x.strides(), x.offset() + start * x.strides()[dim]);
    }

    private static Strided cat(Strided[] in, Attrs a, TensorType outT, Strided out) {
        int[] shape = outT.concreteShape();
        int d = Shapes.normDim("cat", a.getInt("dim"), shape.length);
        int pos = 0;
        for (Strided x : in) {
            int len = x.shape()[d];
            Copy.copyInto(x, narrow(out, d, pos, len));
            pos += len;
        }
        return out;
    }

    private static Strided pad(Strided[] in, Attrs a, TensorType outT) {
        Strided x = in[0];
        int[] pads = a.getInts("pads");
        String mode = a.getString("mode");
        int[] shape = outT.concreteShape();
        int r = shape.length;
        Strided out = Strided.allocate(outT.dtype(), shape);
        if (mode.equals("constant")) {
            Copy.fill(out, a.getFloat("value"));
            // the overlap of input and output (negative pads crop the input)
            Strided src = x, dst = out;
            for (int i = 0; i < pads.length / 2; i++) {
                int d = r - 1 - i, lo = pads[2 * i], hi = pads[2 * i + 1];
                int srcStart = Math.max(-lo, 0), dstStart = Math.max(lo, 0);
                int len = x.shape()[d] - srcStart - Math.max(-hi, 0);
                if (len <= 0) return out;
                src = narrow(src, d, srcStart, len);
                dst = narrow(dst, d, dstStart, len);
            }
            Copy.copyInto(src, dst);
            return out;
        }
        // reflect / replicate: map each output coordinate of every padded dim to a source one
        int[][] maps = new int[r][];
        for (int d = 0; d < r; d++) {
            int i = r - 1 - d;
            int lo = i < pads.length / 2 ? pads[2 * i] : 0;
            int n = x.shape()[d];
            maps[d] = new int[shape[d]];
            for (int o = 0; o < shape[d]; o++) {
                int s = o - lo;
                if (mode.equals("reflect")) {
                    if (s < 0) s = -s;
                    if (s >= n) s = 2 * (n - 1) - s;
                } else {
                    s = Math.min(Math.max(s, 0), n - 1);
                }
                maps[d][o] = s;
            }
        }
        Object src = x.storage().array(), dst = out.storage().array();
        int total = out.numel();
        int[] idx = new int[r];
        for (int o = 0; o < total; o++) {
            int si = x.offset();
            for (int d = 0; d < r; d++) si += maps[d][idx[d]] * x.strides()[d];
            System.arraycopy(src, si, dst, o, 1);
            for (int d = r - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
        return out;
    }

    private static long[] indexValues(Strided idx) {
        return Copy.contiguousOf(idx, DType.INT64).storage().i64();
    }

    private static Strided indexSelect(Strided[] in, Attrs a, TensorType outT) {
        Strided x = in[0];
        if (x.rank() == 0) return Copy.toContiguous(x, x.dtype());
        int d = Shapes.normDim("index_select", a.getInt("dim"), x.rank());
        long[] idx = indexValues(in[1]);
        int n = x.shape()[d];
        Strided out = Strided.allocate(x.dtype(), outT.concreteShape());
        for (int j = 0; j < idx.length; j++) {
            long v = idx[j] < 0 ? idx[j] + n : idx[j];
            if (v < 0 || v >= n) {
                throw new ShapeException("index_select: index " + idx[j] + " is out of range for dim " + d + " of size " + n);
            }
            Copy.copyInto(narrow(x, d, (int) v, 1), narrow(out, d, j, 1));
        }
        return out;
    }

    private static Strided gather(Strided[] in, Attrs a, TensorType outT) {
        Strided x = in[0], index = in[1];
        int r = x.rank();
        int d = r == 0 ? 0 : Shapes.normDim("gather", a.getInt("dim"), r);
        int[] is = index.shape();
        for (int i = 0; i < r; i++) {
            if (i != d && is[i] > x.shape()[i]) {
                throw new ShapeException("gather: index " + Shapes.toString(is) + " is larger than input " + Shapes.toString(x.shape()) + " in dim " + i);
            }
        }
        long[] idx = indexValues(index);
        Strided out = Strided.allocate(x.dtype(), is);
        Object src = x.storage().array(), dst = out.storage().array();
        int n = r == 0 ? 1 : x.shape()[d];
        if (r == 0) {
            if (idx[0] < -1 || idx[0] >= 1) throw new ShapeException("gather: index " + idx[0] + " is out of range for dim 0 of size 1");
            System.arraycopy(src, x.offset(), dst, 0, 1);
            return out;
        }
        // row by row over the index's last dim: the offsets of the other dims are computed
        // once per row instead of per element (max pooling gathers through here)
        int[] xst = x.strides();
        int last = r - 1, len = is[last], sd = xst[d], sl = d == last ? 0 : xst[last];
        IndexRows.forEach(is, (o, pos) -> {
            int base = x.offset();
            for (int i = 0; i < last; i++) if (i != d) base += pos[i] * xst[i];
            for (int j = 0; j < len; j++) {
                long v = idx[o + j];
                if (v < -n || v >= n) throw new ShapeException("gather: index " + v + " is out of range for dim " + d + " of size " + n);
                int si = base + j * sl + (int) (v < 0 ? v + n : v) * sd;
                if (src instanceof float[] f) ((float[]) dst)[o + j] = f[si];
                else System.arraycopy(src, si, dst, o + j, 1);
            }
        });
        return out;
    }

    private static Strided scatterAdd(Strided[] in, Attrs a, TensorType outT) {
        Strided self = in[0], index = in[1], src = in[2];
        int r = self.rank();
        int d = r == 0 ? 0 : Shapes.normDim("scatter_add", a.getInt("dim"), r);
        int[] is = index.shape();
        for (int i = 0; i < r; i++) {
            if (is[i] > src.shape()[i] || (i != d && is[i] > self.shape()[i])) {
                throw new ShapeException("scatter_add: index " + Shapes.toString(is) + " must not be larger than src "
                        + Shapes.toString(src.shape()) + " in any dim, nor than self " + Shapes.toString(self.shape()) + " outside dim " + d);
            }
        }
        Strided out = Copy.toContiguous(self, self.dtype());
        int[] os = out.strides(), ss = src.strides();
        long[] idx = indexValues(index);
        int n = r == 0 ? 1 : self.shape()[d];
        if (r == 0) {
            if (idx[0] < -1 || idx[0] >= 1) throw new ShapeException("scatter_add: index " + idx[0] + " is out of range for dim 0 of size 1");
            addInto(out, 0, src, src.offset());
            return out;
        }
        // row by row over the index's last dim, as gather (max pooling's gradient scatters here)
        int last = r - 1, len = is[last], od = os[d], ol = d == last ? 0 : os[last], sl = ss[last];
        Object oa = out.storage().array(), sa = src.storage().array();
        IndexRows.forEach(is, (o, pos) -> {
            int obase = 0, sbase = src.offset();
            for (int i = 0; i < last; i++) {
                if (i != d) obase += pos[i] * os[i];
                sbase += pos[i] * ss[i];
            }
            for (int j = 0; j < len; j++) {
                long v = idx[o + j];
                if (v < -n || v >= n) throw new ShapeException("scatter_add: index " + v + " is out of range for dim " + d + " of size " + n);
                int di = obase + j * ol + (int) (v < 0 ? v + n : v) * od, si = sbase + j * sl;
                if (oa instanceof float[] f) f[di] += ((float[]) sa)[si];
                else addInto(out, di, src, si);
            }
        });
        return out;
    }

    private static void addInto(Strided out, int di, Strided src, int si) {
        switch (out.dtype()) {
            case FLOAT32 -> out.storage().f32()[di] += src.storage().f32()[si];
            case FLOAT64 -> out.storage().f64()[di] += src.storage().f64()[si];
            case INT64 -> out.storage().i64()[di] += src.storage().i64()[si];
            case BOOL -> out.storage().bool()[di] |= src.storage().bool()[si];
        }
    }

    private static Strided triangle(Strided x, int diagonal, boolean lower) {
        Strided out = Copy.toContiguous(x, x.dtype());
        int[] s = out.shape();
        int rows = s[s.length - 2], cols = s[s.length - 1];
        int mats = rows * cols == 0 ? 0 : out.numel() / (rows * cols);
        for (int m = 0; m < mats; m++) {
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    boolean keep = lower ? j - i <= diagonal : j - i >= diagonal;
                    if (!keep) out.storage().setDouble(m * rows * cols + i * cols + j, 0);
                }
            }
        }
        return out;
    }

    private static Strided flip(Strided[] in, Attrs a, TensorType outT) {
        Strided x = in[0];
        int[] strides = x.strides().clone();
        int off = x.offset();
        for (int dim : a.getInts("dims")) {
            int d = Shapes.normDim("flip", dim, x.rank());
            if (x.shape()[d] > 0) off += (x.shape()[d] - 1) * strides[d];
            strides[d] = -strides[d];
        }
        return Copy.toContiguous(new Strided(x.storage(), x.shape(), strides, off), x.dtype());
    }

    private static Strided repeat(Strided[] in, Attrs a, TensorType outT) {
        Strided x = in[0];
        int[] reps = a.getInts("repeats");
        int r = reps.length, off = r - x.rank();
        // view x as [1, s0, 1, s1, ...] with stride 0 on the repeat dims, expanded to [r0, s0, r1, s1, ...]
        int[] shape = new int[2 * r], strides = new int[2 * r];
        for (int i = 0; i < r; i++) {
            shape[2 * i] = reps[i];
            shape[2 * i + 1] = i >= off ? x.shape()[i - off] : 1;
            strides[2 * i + 1] = i >= off ? x.strides()[i - off] : 0;
        }
        Strided c = Copy.toContiguous(new Strided(x.storage(), shape, strides, x.offset()), x.dtype());
        return Strided.contiguous(c.storage(), outT.concreteShape());
    }

    /** Stable sort of indices along dim; NaN sorts as the largest value; k >= 0 keeps the first k. */
    private static Strided sortIndices(Strided x, int dim, boolean descending, int k) {
        if (x.rank() == 0) {
            Strided out = Strided.allocate(DType.INT64, new int[0]);
            return out;
        }
        int d = Shapes.normDim(k < 0 ? "argsort" : "topk", dim, x.rank());
        ReductionKernels.Rows rows = ReductionKernels.rowsOf(x, new int[] {d}, DType.FLOAT64);
        int n = rows.length(), keep = k < 0 ? n : k;
        double[] v = rows.data().storage().f64();
        int[] outShape = x.shape().clone();
        outShape[d] = keep;
        int[] permShape = new int[x.rank()];
        for (int i = 0, j = 0; i < x.rank(); i++) if (i != d) permShape[j++] = outShape[i];
        permShape[x.rank() - 1] = keep;
        Strided out = Strided.allocate(DType.INT64, permShape);
        long[] o = out.storage().i64();
        int[] order = new int[n], tmp = new int[n];
        for (int r = 0; r < rows.count(); r++) {
            int base = r * n;
            for (int i = 0; i < n; i++) order[i] = i;
            mergeSort(order, tmp, 0, n, v, base, descending);
            for (int i = 0; i < keep; i++) o[r * keep + i] = order[i];
        }
        return ReductionKernels.backFromLast(out, outShape, d);
    }

    private static boolean before(double a, double b, boolean descending) {
        // NaN is the largest value
        if (descending) return (a != a && b == b) || a > b;
        return (b != b && a == a) || a < b;
    }

    private static void mergeSort(int[] idx, int[] tmp, int lo, int hi, double[] v, int base, boolean desc) {
        if (hi - lo < 2) return;
        int mid = (lo + hi) >>> 1;
        mergeSort(idx, tmp, lo, mid, v, base, desc);
        mergeSort(idx, tmp, mid, hi, v, base, desc);
        int i = lo, j = mid, t = lo;
        while (i < mid && j < hi) {
            // take from the right only when strictly before: keeps the sort stable
            if (before(v[base + idx[j]], v[base + idx[i]], desc)) tmp[t++] = idx[j++];
            else tmp[t++] = idx[i++];
        }
        while (i < mid) tmp[t++] = idx[i++];
        while (j < hi) tmp[t++] = idx[j++];
        System.arraycopy(tmp, lo, idx, lo, hi - lo);
    }

    private static Strided oneHot(Strided[] in, Attrs a, TensorType outT) {
        int c = a.getInt("num_classes");
        long[] idx = indexValues(in[0]);
        Strided out = Strided.allocate(DType.INT64, outT.concreteShape());
        long[] o = out.storage().i64();
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= c) throw new ShapeException("one_hot: class value " + idx[i] + " is out of range [0, " + c + ")");
            o[i * c + (int) idx[i]] = 1;
        }
        return out;
    }
}
