package dev.kiln.graph.exec;

import dev.kiln.backend.DType;
import dev.kiln.backend.device.ElementwiseChain;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A fused elementwise group, in the one encoding every executor reads: the chain of its ops
 * ({@link ElementwiseChain}: each step reads earlier steps or the group's inputs) over the
 * values it reads from outside ({@code externals}, in the chain's input order). When the group
 * finishes a GEMM in place, {@code productInput} names the input that is the GEMM's product.
 *
 * <p>The CPU's {@link FusedStep} runs it block by block: step i writes scratch block i, the last
 * step the output buffer; the product is read from the output buffer, always at the index the
 * last step writes, so running in place is safe. A device runs the same chain as one kernel
 * ({@code DeviceExecutor.runFused}).
 */
record FusedProgram(ElementwiseChain chain, List<Value> externals, int productInput) {
    /** Scratch blocks the CPU loop needs: one per step but the last. */
    int scratchCount() { return Math.max(0, chain.steps().size() - 1); }

    /** A GEMM alone, with no elementwise step after it. */
    boolean isEmpty() { return chain.steps().isEmpty(); }

    /**
     * The program of nodes (in topological order) whose last node is the root; {@code product}
     * is the value of the GEMM the group finishes, or null.
     */
    static FusedProgram build(String name, List<Node> nodes, Value product) {
        Map<Value, Integer> refs = new HashMap<>();
        List<Value> externals = new ArrayList<>();
        List<ElementwiseChain.Step> steps = new ArrayList<>();
        int productInput = -1;
        if (product != null) {
            externals.add(product);
            refs.put(product, ElementwiseChain.input(0));
            productInput = 0;
        }
        for (Node n : nodes) {
            int[] srcs = new int[n.inputs().size()];
            for (int j = 0; j < srcs.length; j++) {
                Value v = n.inputs().get(j);
                Integer r = refs.get(v);
                if (r == null) {
                    externals.add(v);
                    r = ElementwiseChain.input(externals.size() - 1);
                    refs.put(v, r);
                }
                srcs[j] = r;
            }
            refs.put(n.output(), steps.size());
            steps.add(new ElementwiseChain.Step(n.op(), n.attrs(), srcs));
        }
        return new FusedProgram(new ElementwiseChain(name, DType.FLOAT32, externals.size(), steps), List.copyOf(externals), productInput);
    }
}
