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
 * <p>The CPU's {@link FusedStep} runs it block by block: step i writes scratch block
 * {@code registers[i]}, the last step the output buffer; the product is read from the output buffer, always at the index the
 * last step writes, so running in place is safe. A device runs the same chain as one kernel
 * ({@code DeviceExecutor.runFused}).
 */
record FusedProgram(ElementwiseChain chain, List<Value> externals, int productInput, int[] registers, int scratchCount) {
    /**
     * The CPU loop's scratch block of each step ({@code registers[i]}; -1 for the last, which
     * writes the output), reused once a step's value is dead: a chain of any length needs two
     * blocks, where one block per step made a 100,000-step chain allocate gigabytes.
     */
    static int[] allocateRegisters(List<ElementwiseChain.Step> steps, int[] count) {
        int n = steps.size();
        int[] lastUse = new int[n];
        for (int i = 0; i < n; i++) lastUse[i] = i;
        for (int i = 0; i < n; i++) for (int s : steps.get(i).srcs()) if (s >= 0) lastUse[s] = Math.max(lastUse[s], i);
        int[] reg = new int[n];
        java.util.ArrayDeque<Integer> free = new java.util.ArrayDeque<>();
        List<List<Integer>> dyingAt = new ArrayList<>();
        for (int i = 0; i < n; i++) dyingAt.add(new ArrayList<>());
        for (int i = 0; i < n; i++) if (lastUse[i] > i) dyingAt.get(lastUse[i]).add(i);
        int next = 0;
        for (int i = 0; i < n; i++) {
            // the destination first, then the inputs that die here are freed: a step never writes
            // the block it reads (the row loops would be safe, but nothing needs to rely on that)
            reg[i] = i == n - 1 ? -1 : free.isEmpty() ? next++ : free.pop();
            for (int s : dyingAt.get(i)) if (reg[s] >= 0) free.push(reg[s]);
            if (lastUse[i] == i && reg[i] >= 0) free.push(reg[i]); // never read: its block is free again
        }
        count[0] = next;
        return reg;
    }

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
        int[] count = new int[1];
        int[] registers = allocateRegisters(steps, count);
        return new FusedProgram(new ElementwiseChain(name, DType.FLOAT32, externals.size(), steps), List.copyOf(externals), productInput,
                registers, count[0]);
    }
}
