package dev.kiln.backend.cpu;

import dev.kiln.backend.op.Op;
import java.util.Map;

/** Registers the neural-network kernel families (convolution, pooling, random) in one line of the table. */
final class NnKernels {
    private NnKernels() {}

    static void register(Map<Op, CpuKernel> k) {
        ConvKernels.register(k);
        PoolKernels.register(k);
        RandomKernels.register(k);
        AttentionKernels.register(k);
        AttentionBackwardKernel.register(k);
    }
}
