package dev.kiln.graph.exec;

import dev.kiln.graph.Node;
import java.util.List;

/**
 * One step of a plan before symbols are bound: either a plain kernel call for one node, or a
 * fused group (elementwise nodes, optionally finishing a GEMM in place).
 */
sealed interface StepSpec {
    /** The node whose value the step defines. */
    Node root();

    /** Every graph node the step computes, in order. */
    List<Node> nodes();

    record Kernel(Node root) implements StepSpec {
        public List<Node> nodes() { return List.of(root); }
    }

    /** {@code gemm} (matmul or addmm, 2-D, f32) or null; {@code elementwise} may be empty when gemm is set. */
    record Fused(Node gemm, List<Node> elementwise, FusedProgram program) implements StepSpec {
        public Node root() { return elementwise.isEmpty() ? gemm : elementwise.get(elementwise.size() - 1); }

        public List<Node> nodes() {
            if (gemm == null) return elementwise;
            List<Node> all = new java.util.ArrayList<>();
            all.add(gemm);
            all.addAll(elementwise);
            return all;
        }
    }
}
