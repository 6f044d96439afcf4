package dev.kiln.backend.cuda;

import dev.kiln.backend.op.Op;
import java.util.EnumMap;
import java.util.Map;

/**
 * The integer op codes the generic reduction kernels switch on. The order of the enum in
 * reduce.cu is the contract; {@code CudaOpCodesTest} reads the C enum back from the source, so
 * the two sides cannot drift apart silently. (Elementwise ops have no codes: their kernels are
 * generated from each op's ElementwiseSpec.)
 */
final class CudaOpCodes {
    private CudaOpCodes() {}

    static final String[] REDUCE_C_NAMES = {"R_SUM", "R_PROD", "R_AMAX", "R_AMIN"};

    static final Map<Op, Integer> REDUCE = codes(new Op[] {Op.SUM, Op.PROD, Op.AMAX, Op.AMIN});

    private static Map<Op, Integer> codes(Op[] inOrder) {
        Map<Op, Integer> m = new EnumMap<>(Op.class);
        for (int i = 0; i < inOrder.length; i++) if (inOrder[i] != null) m.put(inOrder[i], i);
        return m;
    }
}
