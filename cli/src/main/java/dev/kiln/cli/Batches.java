package dev.kiln.cli;

import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.backend.cpu.CpuKernels;
import java.util.ArrayList;
import java.util.List;

/** Runs a graph over dim-0 chunks of its inputs and concatenates the first output's chunks. */
final class Batches {
    private Batches() {}

    static Strided run(Executor exec, List<Strided> inputs, int batch) {
        if (batch < 1) throw new CliErrors.UsageException("--batch-size must be at least 1, got " + batch);
        int rows = -1;
        for (Strided x : inputs) {
            if (x.rank() == 0) throw new CliErrors.UsageException("--batch-size needs inputs with a batch dim; an input is a scalar");
            if (rows >= 0 && x.shape()[0] != rows) throw new CliErrors.UsageException("--batch-size needs inputs with the same dim 0, got " + rows + " and " + x.shape()[0]);
            rows = x.shape()[0];
        }
        List<Strided> parts = new ArrayList<>();
        for (int start = 0; start < rows; start += batch) {
            int end = Math.min(rows, start + batch);
            List<Strided> chunk = new ArrayList<>();
            for (Strided x : inputs) chunk.add(slice(x, start, end));
            parts.add(exec.run(chunk).get(0));
        }
        if (parts.size() == 1) return parts.get(0);
        int total = 0;
        for (Strided p : parts) {
            if (p.rank() == 0) throw new CliErrors.UsageException("--batch-size needs an output with a batch dim; this model returns a scalar");
            total += p.shape()[0];
        }
        int[] shape = parts.get(0).shape().clone();
        shape[0] = total;
        return CpuKernels.run(Op.CAT, parts.toArray(Strided[]::new), Op.CAT.def().checkAttrs(Attrs.of("dim", 0)), TensorType.of(parts.get(0).dtype(), shape));
    }

    private static Strided slice(Strided x, int start, int end) {
        int[] shape = x.shape().clone();
        shape[0] = end - start;
        return CpuKernels.run(Op.SLICE, new Strided[] {x}, Op.SLICE.def().checkAttrs(Attrs.of("dim", 0, "start", start, "end", end)), TensorType.of(x.dtype(), shape));
    }
}
