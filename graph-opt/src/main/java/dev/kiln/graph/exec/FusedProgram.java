package dev.kiln.graph.exec;

import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A fused elementwise group as a tiny register program over one block of the output at a
 * time. Registers: {@code >= 0} scratch arrays, {@link #OUT} the output buffer itself, and
 * {@code <= -2} the group's external inputs (see {@link #ext}). Only the last instruction
 * writes OUT; every read of OUT (a GEMM result being finished in place, or an input whose
 * buffer the output reuses) is at the same index the last instruction writes, so running in
 * place is safe.
 */
record FusedProgram(List<Instr> instrs, List<Value> externals, int scratchCount) {
    static final int OUT = -1;

    record Instr(Op op, Attrs attrs, int[] srcs, int dst, BlockOps.Unary unary, BlockOps.Binary binary) {}

    static int ext(int k) { return -2 - k; }

    static int extIndex(int reg) { return -2 - reg; }

    /**
     * Builds the program for nodes (in topological order) whose last node is the root. A value
     * equal to {@code inPlace} (a GEMM result already in the output buffer, an addmm's bias
     * included) reads OUT.
     */
    static FusedProgram build(List<Node> nodes, Value inPlace) {
        List<Instr> out = new ArrayList<>();
        List<Value> externals = new ArrayList<>();
        Map<Value, Integer> regs = new HashMap<>();
        int scratch = 0;
        if (inPlace != null) regs.put(inPlace, OUT);
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            int[] srcs = new int[n.inputs().size()];
            for (int j = 0; j < srcs.length; j++) srcs[j] = register(n.inputs().get(j), regs, externals);
            int dst = i == nodes.size() - 1 ? OUT : scratch++;
            regs.put(n.output(), dst);
            int arity = n.op() == Op.WHERE ? 3 : n.op().def().elementwise().arity();
            BlockOps.Unary u = arity == 1 ? BlockOps.unary(n.op(), n.attrs()) : null;
            BlockOps.Binary b = arity == 2 ? BlockOps.binary(n.op()) : null;
            out.add(new Instr(n.op(), n.attrs(), srcs, dst, u, b));
        }
        return new FusedProgram(List.copyOf(out), List.copyOf(externals), scratch);
    }

    private static int register(Value v, Map<Value, Integer> regs, List<Value> externals) {
        Integer r = regs.get(v);
        if (r != null) return r;
        externals.add(v);
        int reg = ext(externals.size() - 1);
        regs.put(v, reg);
        return reg;
    }
}
