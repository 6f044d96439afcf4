package dev.kiln.serve;

import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.backend.cpu.CpuKernels;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import java.util.List;

/** Concatenation and splitting along dim 0, with the CPU kernels the graphs themselves use. */
final class Rows {
    private Rows() {}

    static Strided concat(List<Strided> parts) {
        if (parts.size() == 1) return parts.get(0);
        int[] shape = parts.get(0).shape().clone();
        shape[0] = 0;
        for (Strided p : parts) shape[0] += p.shape()[0];
        return CpuKernels.run(Op.CAT, parts.toArray(Strided[]::new), Op.CAT.def().checkAttrs(Attrs.of("dim", 0)),
                TensorType.of(parts.get(0).dtype(), shape));
    }

    /** Rows {@code start..end} of {@code x} as a dense tensor of their own (not a view of the batch). */
    static Strided slice(Strided x, int start, int end) {
        int[] shape = x.shape().clone();
        shape[0] = end - start;
        Strided view = CpuKernels.run(Op.SLICE, new Strided[] {x}, Op.SLICE.def().checkAttrs(Attrs.of("dim", 0, "start", start, "end", end)),
                TensorType.of(x.dtype(), shape));
        return Copy.contiguousOf(view, x.dtype());
    }
}
