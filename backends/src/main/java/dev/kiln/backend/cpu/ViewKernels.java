package dev.kiln.backend.cpu;

import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.op.ShapeRules;
import dev.kiln.backend.shape.Shapes;
import dev.kiln.backend.shape.TensorType;
import java.util.Map;

/** View ops: new (shape, strides, offset) over the same storage; reshape copies only when it must. */
final class ViewKernels {
    private ViewKernels() {}

    static void register(Map<Op, CpuKernel> k) {
        k.put(Op.RESHAPE, (in, a, out) -> reshape(in[0], out.concreteShape()));
        k.put(Op.FLATTEN, (in, a, out) -> reshape(in[0], out.concreteShape()));
        k.put(Op.UNFLATTEN, (in, a, out) -> reshape(in[0], out.concreteShape()));
        k.put(Op.PERMUTE, (in, a, out) -> {
            int[] dims = a.getInts("dims");
            for (int i = 0; i < dims.length; i++) dims[i] = Shapes.normDim("permute", dims[i], in[0].rank());
            return permute(in[0], dims);
        });
        k.put(Op.EXPAND, (in, a, out) -> expand(in[0], out.concreteShape()));
        k.put(Op.EXPAND_AS, (in, a, out) -> expand(in[0], out.concreteShape()));
        k.put(Op.SLICE, ViewKernels::slice);
        k.put(Op.SELECT, ViewKernels::select);
        // adding or removing unit dims is always expressible as a view
        k.put(Op.SQUEEZE, (in, a, out) -> reshape(in[0], out.concreteShape()));
        k.put(Op.UNSQUEEZE, (in, a, out) -> reshape(in[0], out.concreteShape()));
    }

    static Strided permute(Strided x, int[] perm) {
        int r = perm.length;
        int[] shape = new int[r], strides = new int[r];
        for (int i = 0; i < r; i++) {
            shape[i] = x.shape()[perm[i]];
            strides[i] = x.strides()[perm[i]];
        }
        return new Strided(x.storage(), shape, strides, x.offset());
    }

    static Strided expand(Strided x, int[] target) {
        int[] strides = Shapes.broadcastStrides(x.shape(), x.strides(), target);
        return new Strided(x.storage(), target.clone(), strides, x.offset());
    }

    /** A view when the layout allows (PyTorch's computeStride), else a contiguous copy. */
    static Strided reshape(Strided x, int[] newShape) {
        int[] strides = viewStrides(x.shape(), x.strides(), newShape);
        if (strides != null) return new Strided(x.storage(), newShape.clone(), strides, x.offset());
        Strided c = Copy.toContiguous(x, x.dtype());
        return Strided.contiguous(c.storage(), newShape.clone());
    }

    /** Strides that view (oldShape, oldStrides) as newShape, or null when a copy is needed. */
    static int[] viewStrides(int[] oldShape, int[] oldStrides, int[] newShape) {
        int[] ns = new int[newShape.length];
        if (Shapes.numel(oldShape) == 0 || oldShape.length == 0) return Shapes.contiguousStrides(newShape);
        int viewD = newShape.length - 1;
        int chunkBase = oldStrides[oldStrides.length - 1];
        long tensorNumel = 1, viewNumel = 1;
        for (int td = oldShape.length - 1; td >= 0; td--) {
            tensorNumel *= oldShape[td];
            if (td == 0 || (oldShape[td - 1] != 1 && oldStrides[td - 1] != tensorNumel * chunkBase)) {
                while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1)) {
                    ns[viewD] = (int) (viewNumel * chunkBase);
                    viewNumel *= newShape[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) return null;
                if (td > 0) {
                    chunkBase = oldStrides[td - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        return viewD == -1 ? ns : null;
    }

    private static Strided slice(Strided[] in, Attrs a, TensorType out) {
        Strided x = in[0];
        int d = Shapes.normDim("slice", a.getInt("dim"), x.rank());
        int step = a.getInt("step");
        int[] b = ShapeRules.sliceBounds(x.shape()[d], a.getInt("start"), a.getInt("end"), step);
        int[] shape = x.shape().clone(), strides = x.strides().clone();
        shape[d] = b[1];
        strides[d] = x.strides()[d] * step;
        return new Strided(x.storage(), shape, strides, x.offset() + b[0] * x.strides()[d]);
    }

    private static Strided select(Strided[] in, Attrs a, TensorType out) {
        Strided x = in[0];
        int d = Shapes.normDim("select", a.getInt("dim"), x.rank());
        int idx = a.getInt("index");
        if (idx < 0) idx += x.shape()[d];
        int r = x.rank();
        int[] shape = new int[r - 1], strides = new int[r - 1];
        for (int i = 0, j = 0; i < r; i++) {
            if (i == d) continue;
            shape[j] = x.shape()[i];
            strides[j++] = x.strides()[i];
        }
        return new Strided(x.storage(), shape, strides, x.offset() + idx * x.strides()[d]);
    }
}
