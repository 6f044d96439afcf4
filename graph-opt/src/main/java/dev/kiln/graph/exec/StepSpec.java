package dev.kiln.graph.exec;

import dev.kiln.graph.Node;
import java.util.List;

/**
 * One step of a plan before symbols are bound: a plain kernel call for one node, a fused group
 * (elementwise nodes, optionally finishing a GEMM in place), or a direct convolution with its
 * epilogue (activations, then optionally a 2x2 max pool).
 */
sealed interface StepSpec {
    /** The node whose value the step defines. */
    Node root();

    /** Every graph node the step computes, in order. */
    List<Node> nodes();

    record Kernel(Node root) implements StepSpec {
        public List<Node> nodes() { return List.of(root); }
    }

    /**
     * conv2d (one DirectConv.applies to) followed by unary activations, each the only user of
     * the one before, and optionally a max_pool2d the epilogue pools with; at least one of them.
     */
    record Conv(Node conv, List<Node> activations, Node pool) implements StepSpec {
        public Node root() { return pool != null ? pool : activations.isEmpty() ? conv : activations.get(activations.size() - 1); }

        public List<Node> nodes() {
            List<Node> all = new java.util.ArrayList<>();
            all.add(conv);
            all.addAll(activations);
            if (pool != null) all.add(pool);
            return all;
        }
    }

    /**
     * {@code gemm} (f32 addmm, or f32 matmul of A [.., m, k] by a 2-D B) or null; {@code elementwise}
     * may be empty when gemm is set. {@code gemmView}, or null: a reshape of a 2-D product's
     * [m, n] (an addmm, or a matmul of 2-D operands) to the group's [.., n] (a linear layer on
     * [B, T, C] as eager runs it, and its input gradient), the same memory, which the group reads
     * as its product.
     */
    record Fused(Node gemm, Node gemmView, List<Node> elementwise, FusedProgram program) implements StepSpec {
        public Node root() { return elementwise.isEmpty() ? gemm : elementwise.get(elementwise.size() - 1); }

        public List<Node> nodes() {
            if (gemm == null) return elementwise;
            List<Node> all = new java.util.ArrayList<>();
            all.add(gemm);
            if (gemmView != null) all.add(gemmView);
            all.addAll(elementwise);
            return all;
        }
    }
}
