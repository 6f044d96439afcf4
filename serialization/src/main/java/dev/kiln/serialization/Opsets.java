package dev.kiln.serialization;

import static dev.kiln.backend.op.Op.*;

import dev.kiln.backend.op.Op;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The opset each op entered the vocabulary in: the one table the writer (it declares the smallest
 * opset a graph needs, so a graph of old ops stays readable by old readers) and the reader (a node
 * newer than its file's opset is refused) consult. Opset 1 is every op a format 1.0 to 1.2 writer
 * wrote, all of them declaring opset 1; opset 2 came with format 1.3, opsets 3 to 5 (fused training ops) within it. A new op goes into a new
 * opset here, with {@link FormatVersion#OPSET} raised; OpsetsTest fails while an op is missing.
 */
public final class Opsets {
    private static final Map<Op, Integer> INTRODUCED = new EnumMap<>(Op.class);

    static {
        introduce(1, NEG, ABS, SIGN, EXP, LOG, LOG1P, EXPM1, SQRT, RSQRT, RECIPROCAL, SIN, COS, TANH, SIGMOID, RELU, GELU, SILU, ERF,
                FLOOR, CEIL, ROUND, CLAMP, LOGICAL_NOT, CAST, CLONE, FULL_LIKE, ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, EQ, NE, LT, LE,
                GT, GE, LOGICAL_AND, LOGICAL_OR, LOGICAL_XOR, WHERE, SUM, PROD, AMAX, AMIN, ALL, ANY, ARGMAX, ARGMIN, CUMSUM, SOFTMAX,
                LOG_SOFTMAX, MATMUL, ADDMM, RESHAPE, PERMUTE, EXPAND, EXPAND_AS, SLICE, SELECT, SQUEEZE, UNSQUEEZE, FLATTEN, UNFLATTEN,
                CAT, PAD, INDEX_SELECT, GATHER, SCATTER_ADD, TRIL, TRIU, FLIP, REPEAT, ARGSORT, TOPK_INDICES, ONE_HOT, SIZE, CONV2D,
                CONV_TRANSPOSE2D, CONV2D_WEIGHT_GRAD, MAX_POOL2D_INDICES, RAND_LIKE);
        introduce(2, SCALED_DOT_PRODUCT_ATTENTION, SCALED_DOT_PRODUCT_ATTENTION_GRAD, MAX_POOL2D, COND, WHILE_LOOP, SCAN);
        introduce(3, GELU_BACKWARD, LAYER_NORM, LAYER_NORM_GRAD);
        introduce(4, SOFTMAX_BACKWARD);
        introduce(5, SCALED_DOT_PRODUCT_ATTENTION_BACKWARD);
    }

    private Opsets() {}

    private static void introduce(int opset, Op... ops) {
        for (Op op : ops) {
            if (INTRODUCED.put(op, opset) != null) throw new IllegalStateException(op.opName() + " is listed in two opsets");
        }
    }

    /** The opset {@code op} was introduced in. */
    public static int introduced(Op op) {
        Integer v = INTRODUCED.get(op);
        // a programming error, not a file's: an op was added to Op without an opset here
        if (v == null) throw new IllegalStateException("op " + op.opName() + " has no opset in dev.kiln.serialization.Opsets (a new op goes into a new opset)");
        return v;
    }

    /** The ops introduced in {@code opset}, in Op's order (docs/format.md lists them). */
    public static List<Op> introducedIn(int opset) {
        List<Op> out = new ArrayList<>();
        for (Op op : Op.values()) if (INTRODUCED.get(op) != null && INTRODUCED.get(op) == opset) out.add(op);
        return out;
    }

    /** The smallest opset that has every op of {@code g}, its bodies' included. */
    public static int required(Graph g) {
        int need = 1;
        for (Node n : g.nodes()) {
            need = Math.max(need, introduced(n.op()));
            for (Graph body : n.bodies()) need = Math.max(need, required(body));
        }
        return need;
    }
}
