package dev.kiln.cli;

import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.Shapes;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Estimated floating-point operations of one run, as a polynomial in the symbolic dims
 * ({@code 544*N + 16}): a multiply-add counts 2, a bias add 1. Only GEMM-like ops are counted;
 * they dominate every model Kiln runs today (conv joins them when it exists).
 */
final class Flops {
    private Flops() {}

    static String estimate(Graph g) {
        Map<String, Dim> terms = new TreeMap<>();
        try {
            for (Node n : g.nodes()) {
                Dim f = switch (n.op()) {
                    case MATMUL -> gemm(n, g.typeOf(n.inputs().get(0)));
                    case ADDMM -> gemm(n, g.typeOf(n.inputs().get(1))).plus(numel(n.type()));
                    default -> null;
                };
                if (f == null) continue;
                terms.merge(String.join("*", f.symbols()), f, Dim::plus);
            }
        } catch (ArithmeticException e) {
            return "more than 2^63";
        }
        if (terms.isEmpty()) return "0";
        List<String> parts = new ArrayList<>();
        for (Dim d : terms.values()) parts.add(0, d.toString());
        return String.join(" + ", parts);
    }

    private static Dim gemm(Node n, TensorType a) {
        Dim k = a.dim(a.rank() - 1);
        return Dim.of(2).times(numel(n.type())).times(k);
    }

    private static Dim numel(TensorType t) { return Shapes.product(t.shape(), 0, t.rank()); }
}
