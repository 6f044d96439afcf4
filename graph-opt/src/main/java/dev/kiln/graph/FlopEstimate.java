package dev.kiln.graph;

import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.Shapes;
import dev.kiln.backend.shape.TensorType;
import java.util.function.Function;

/**
 * Rough floating-point operation count of one node, over symbolic types, so the same rule
 * serves `kiln inspect` (a polynomial in N) and a compiled plan's explain() (bound sizes):
 * 2*m*n*k for products (plus the bias add), 2 per weight per output element for conv, a
 * handful per element for softmax, one per input element for reductions, one per output
 * element for other compute, none for views. Enough to see where time should go, not a cost
 * model. Every count is a monomial in the dims, so it is a {@link Dim}.
 */
public final class FlopEstimate {
    private FlopEstimate() {}

    public static Dim of(Node n, Function<Value, TensorType> typeOf) {
        Dim out = numel(n.type());
        return switch (n.op()) {
            case MATMUL -> gemm(out, typeOf.apply(n.inputs().get(0)));
            case ADDMM -> gemm(out, typeOf.apply(n.inputs().get(1))).plus(out);
            case CONV2D -> {
                TensorType w = typeOf.apply(n.inputs().get(1));
                yield Dim.of(2).times(out).times(Shapes.product(w.shape(), 1, 4));
            }
            case SOFTMAX, LOG_SOFTMAX, SOFTMAX_BACKWARD -> Dim.of(4).times(out);
            // products over the L x S scores: q k^T and P v forward; the one-pass backward's five (scores, dP, dv, dk, dq)
            case SCALED_DOT_PRODUCT_ATTENTION -> {
                Dim qAndOut = numel(typeOf.apply(n.inputs().get(0))).plus(out); // null when E and Ev differ symbolically
                yield Dim.of(2).times(keys(n, typeOf)).times(qAndOut != null ? qAndOut : Dim.of(2).times(out));
            }
            case SCALED_DOT_PRODUCT_ATTENTION_BACKWARD -> Dim.of(10).times(keys(n, typeOf)).times(numel(typeOf.apply(n.inputs().get(0))));
            // one gradient of the tiled ops: the row statistics' scores, then scores, dP and one product (about four)
            case SCALED_DOT_PRODUCT_ATTENTION_GRAD -> Dim.of(8).times(keys(n, typeOf)).times(numel(typeOf.apply(n.inputs().get(0))));
            case SUM, PROD, AMAX, AMIN, ALL, ANY, ARGMAX, ARGMIN, CUMSUM -> numel(typeOf.apply(n.inputs().get(0)));
            default -> n.op().def().isView() || n.op() == Op.SIZE ? Dim.of(0) : out;
        };
    }

    /** S, the attention's key count: k's second-to-last dim. */
    private static Dim keys(Node n, Function<Value, TensorType> typeOf) {
        Dim[] k = typeOf.apply(n.inputs().get(1)).shape();
        return k[k.length - 2];
    }

    /** True for the ops whose count dominates a model (products and convolutions). */
    public static boolean isGemmLike(Op op) { return op == Op.MATMUL || op == Op.ADDMM || op == Op.CONV2D; }

    private static Dim gemm(Dim out, TensorType a) { return Dim.of(2).times(out).times(a.dim(a.rank() - 1)); }

    private static Dim numel(TensorType t) { return Shapes.product(t.shape(), 0, t.rank()); }
}
