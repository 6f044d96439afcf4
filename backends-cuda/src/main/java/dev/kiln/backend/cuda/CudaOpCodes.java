package dev.kiln.backend.cuda;

import dev.kiln.backend.op.Op;
import java.util.EnumMap;
import java.util.Map;

/**
 * The integer op codes the generic elementwise and reduction kernels switch on. The order of
 * each enum in kiln_common.cuh / reduce.cu is the contract; {@code CudaOpCodesTest} reads the
 * C enums back from the sources, so the two sides cannot drift apart silently.
 */
final class CudaOpCodes {
    private CudaOpCodes() {}

    /** In the order of {@code enum KUnary}; GELU maps to U_GELU or U_GELU_TANH by its attribute. */
    static final String[] UNARY_C_NAMES = {"U_NEG", "U_ABS", "U_SIGN", "U_EXP", "U_LOG", "U_LOG1P", "U_EXPM1", "U_SQRT",
        "U_RSQRT", "U_RECIPROCAL", "U_SIN", "U_COS", "U_TANH", "U_SIGMOID", "U_RELU", "U_GELU", "U_GELU_TANH", "U_SILU",
        "U_ERF", "U_FLOOR", "U_CEIL", "U_ROUND", "U_CLAMP", "U_IDENTITY"};
    static final String[] BINARY_C_NAMES = {"B_ADD", "B_SUB", "B_MUL", "B_DIV", "B_POW", "B_MAXIMUM", "B_MINIMUM"};
    static final String[] COMPARE_C_NAMES = {"C_EQ", "C_NE", "C_LT", "C_LE", "C_GT", "C_GE", "C_AND", "C_OR", "C_XOR"};
    static final String[] REDUCE_C_NAMES = {"R_SUM", "R_PROD", "R_AMAX", "R_AMIN"};

    static final int U_GELU_TANH = 16;

    static final Map<Op, Integer> UNARY = codes(new Op[] {Op.NEG, Op.ABS, Op.SIGN, Op.EXP, Op.LOG, Op.LOG1P, Op.EXPM1,
        Op.SQRT, Op.RSQRT, Op.RECIPROCAL, Op.SIN, Op.COS, Op.TANH, Op.SIGMOID, Op.RELU, Op.GELU, null, Op.SILU, Op.ERF,
        Op.FLOOR, Op.CEIL, Op.ROUND, Op.CLAMP});
    static final Map<Op, Integer> BINARY = codes(new Op[] {Op.ADD, Op.SUB, Op.MUL, Op.DIV, Op.POW, Op.MAXIMUM, Op.MINIMUM});
    static final Map<Op, Integer> COMPARE = codes(new Op[] {Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE, Op.LOGICAL_AND,
        Op.LOGICAL_OR, Op.LOGICAL_XOR});
    static final Map<Op, Integer> REDUCE = codes(new Op[] {Op.SUM, Op.PROD, Op.AMAX, Op.AMIN});

    private static Map<Op, Integer> codes(Op[] inOrder) {
        Map<Op, Integer> m = new EnumMap<>(Op.class);
        for (int i = 0; i < inOrder.length; i++) if (inOrder[i] != null) m.put(inOrder[i], i);
        return m;
    }
}
