package dev.kiln.cli;

import dev.kiln.backend.shape.Dim;
import dev.kiln.graph.FlopEstimate;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Estimated floating-point operations of one run, as a polynomial in the symbolic dims
 * ({@code 544*N + 16}), summed from {@link FlopEstimate}'s per-node counts over the GEMM-like
 * ops (matmul, addmm, conv2d), which dominate every model Kiln runs today.
 */
final class Flops {
    private Flops() {}

    static String estimate(Graph g) {
        Map<String, Dim> terms = new TreeMap<>();
        try {
            for (Node n : g.nodes()) {
                if (!FlopEstimate.isGemmLike(n.op())) continue;
                Dim f = FlopEstimate.of(n, g::typeOf);
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
}
