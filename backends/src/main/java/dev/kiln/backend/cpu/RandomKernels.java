package dev.kiln.backend.cpu;

import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.NnShapeRules;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.random.CounterHash;
import dev.kiln.backend.shape.TensorType;
import java.util.Map;

/** rand_like: element i is CounterHash of (seed, offset + i), the default generator's own stream. */
final class RandomKernels {
    private RandomKernels() {}

    static void register(Map<Op, CpuKernel> k) {
        k.put(Op.RAND_LIKE, RandomKernels::randLike);
    }

    private static Strided randLike(Strided[] in, Attrs a, TensorType outT) {
        long seed = NnShapeRules.joinWords(a.getInts("seed")), offset = NnShapeRules.joinWords(a.getInts("offset"));
        Strided out = Strided.allocate(outT.dtype(), outT.concreteShape());
        int n = out.numel();
        switch (outT.dtype()) {
            case FLOAT32 -> {
                float[] f = out.storage().f32();
                for (int i = 0; i < n; i++) f[i] = CounterHash.uniformFloat(seed, offset + i);
            }
            case FLOAT64 -> {
                double[] f = out.storage().f64();
                for (int i = 0; i < n; i++) f[i] = CounterHash.uniform(seed, offset + i);
            }
            default -> throw new IllegalStateException("rand_like: unexpected output dtype " + outT.dtype());
        }
        return out;
    }
}
