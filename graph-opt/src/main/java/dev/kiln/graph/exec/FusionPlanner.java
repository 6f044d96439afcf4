package dev.kiln.graph.exec;

import dev.kiln.backend.DType;
import dev.kiln.backend.cpu.DirectConv;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Guard;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Groups nodes into plan steps. An elementwise node joins the group of an elementwise input
 * when that input is used by nobody else, is not a graph output or guarded (so it never needs
 * a buffer), and has the same shape (so the group streams one index space). A 2-D float32
 * matmul/addmm whose only users are one group's nodes becomes that group's GEMM, finished in
 * place block by block (bias add, activation), also through a reshape of its [m, n] product to
 * the group's [.., n] (a linear layer on [B, T, C] and its input gradient). A conv2d that runs direct, with the activations
 * after it and a 2x2 max pool after those, becomes one step whose epilogue finishes each sample
 * in cache (ConvStep). Everything else is a kernel call.
 */
final class FusionPlanner {
    private FusionPlanner() {}

    /** cpu: whether the steps are for the CPU plan; device plans fuse elementwise groups only (a conv epilogue is a CPU kernel). */
    static List<StepSpec> plan(Graph g, boolean fuse, boolean cpu) {
        List<StepSpec> steps = new ArrayList<>();
        if (!fuse) {
            for (Node n : g.nodes()) steps.add(new StepSpec.Kernel(n));
            return steps;
        }
        Map<Value, Set<Node>> users = new HashMap<>();
        for (Node n : g.nodes()) for (Value v : n.inputs()) users.computeIfAbsent(v, k -> new LinkedHashSet<>()).add(n);
        Set<Value> escaping = new HashSet<>(g.outputs());
        for (Guard gd : g.guards()) if (gd.value() != null) escaping.add(gd.value());
        Map<Integer, Integer> order = new HashMap<>();
        for (int i = 0; i < g.nodes().size(); i++) order.put(g.nodes().get(i).id(), i);

        // direct convolutions with their epilogues first: their activations join no elementwise group
        Map<Node, StepSpec.Conv> convByRoot = cpu ? convEpilogues(g, users, escaping) : Map.of();
        Set<Node> inConv = new HashSet<>();
        for (StepSpec.Conv c : convByRoot.values()) inConv.addAll(c.nodes());

        // group of each elementwise node, keyed by the group's current root value
        Map<Value, List<Node>> groups = new LinkedHashMap<>();
        for (Node n : g.nodes()) {
            if (!elementwise(g, n) || inConv.contains(n)) continue;
            // merged small into large, sorted once at the end: a 100,000-node chain costs n log n,
            // not the n^2 of copying and re-sorting the growing group at every node
            List<Node> grp = null;
            List<List<Node>> merged = new ArrayList<>();
            for (Value v : new LinkedHashSet<>(n.inputs())) {
                List<Node> sub = groups.get(v);
                if (sub != null && users.get(v).size() == 1 && !escaping.contains(v) && sameShape(g, v, n.output())) {
                    groups.remove(v);
                    merged.add(sub);
                    if (grp == null || sub.size() > grp.size()) grp = sub;
                }
            }
            if (grp == null) grp = new ArrayList<>();
            for (List<Node> sub : merged) if (sub != grp) grp.addAll(sub);
            grp.add(n);
            groups.put(n.output(), grp);
        }
        for (List<Node> grp : groups.values()) grp.sort(Comparator.comparing(x -> order.get(x.id())));

        // attach GEMMs to the group that consumes them (an addmm also through the reshape back
        // to [.., n] that a linear layer on [B, T, C] puts after it)
        Map<Value, Node> gemmOf = new HashMap<>(), viewOf = new HashMap<>();
        Set<Node> absorbed = new HashSet<>();
        for (var e : groups.entrySet()) {
            Set<Node> members = new HashSet<>(e.getValue());
            for (Node n : e.getValue()) {
                for (Value v : n.inputs()) {
                    if (v.kind() != Value.Kind.NODE || members.contains(g.node(v.nodeId())) || gemmOf.containsKey(e.getKey())) continue;
                    Node p = g.node(v.nodeId()), view = rowsView(g, p, users, escaping);
                    if (view != null) p = g.node(view.inputs().get(0).nodeId());
                    if (gemm(g, p) && !absorbed.contains(p) && !escaping.contains(v) && members.containsAll(users.get(v))
                            && sameShape(g, v, e.getKey())) {
                        gemmOf.put(e.getKey(), p);
                        absorbed.add(p);
                        if (view != null) {
                            viewOf.put(e.getKey(), view);
                            absorbed.add(view);
                        }
                    }
                }
            }
        }

        // a lone where (relu's and clamp's backward) runs faster as the eager kernel, whose
        // vectorized select reads the bool mask directly, than as a fused loop that first widens
        // the mask to floats; only a GEMM epilogue makes fusing it pay
        groups.entrySet().removeIf(e -> e.getValue().size() == 1 && e.getValue().get(0).op() == Op.WHERE && !gemmOf.containsKey(e.getKey()));

        Map<Node, StepSpec> byRoot = new HashMap<>();
        for (var e : groups.entrySet()) {
            Node gm = gemmOf.get(e.getKey()), view = viewOf.get(e.getKey());
            Value product = gm == null ? null : view != null ? view.output() : gm.output();
            FusedProgram prog = FusedProgram.build(g.name() + "_" + e.getKey().nodeId(), e.getValue(), product);
            byRoot.put(g.node(e.getKey().nodeId()), new StepSpec.Fused(gm, view, List.copyOf(e.getValue()), prog));
        }
        Set<Node> inGroups = new HashSet<>();
        for (List<Node> grp : groups.values()) inGroups.addAll(grp);
        for (Node n : g.nodes()) {
            StepSpec s = byRoot.get(n);
            if (s != null) {
                steps.add(s);
            } else if (convByRoot.containsKey(n)) {
                steps.add(convByRoot.get(n));
            } else if (absorbed.contains(n) || inGroups.contains(n) || inConv.contains(n)) {
                continue; // computed inside a fused step
            } else if (gemm(g, n)) {
                FusedProgram prog = FusedProgram.build(g.name() + "_" + n.id(), List.of(), n.output());
                steps.add(new StepSpec.Fused(n, null, List.of(), prog));
            } else {
                steps.add(new StepSpec.Kernel(n));
            }
        }
        return steps;
    }

    /**
     * Each conv2d that runs direct (DirectConv.applies) with a float32 activation chain after it
     * (unary ops with vector rows, each value used once and neither an output nor guarded),
     * optionally ended by a 2x2 stride-2 max_pool2d: keyed by the chain's last node.
     */
    private static Map<Node, StepSpec.Conv> convEpilogues(Graph g, Map<Value, Set<Node>> users, Set<Value> escaping) {
        Map<Node, StepSpec.Conv> byRoot = new HashMap<>();
        for (Node n : g.nodes()) {
            if (n.op() != Op.CONV2D || n.type().dtype() != DType.FLOAT32
                    || !DirectConv.applies(g.typeOf(n.inputs().get(0)), g.typeOf(n.inputs().get(1)), n.attrs())) continue;
            List<Node> activations = new ArrayList<>();
            Node last = n, pool = null;
            while (pool == null) {
                Set<Node> us = users.get(last.output());
                if (us == null || us.size() != 1 || escaping.contains(last.output())) break;
                Node u = us.iterator().next();
                if (activation(g, u)) {
                    activations.add(u);
                    last = u;
                } else if (u.op() == Op.MAX_POOL2D && DirectConv.poolsInEpilogue(u.attrs())) {
                    pool = u;
                } else {
                    break;
                }
            }
            if (activations.isEmpty() && pool == null) continue;
            StepSpec.Conv c = new StepSpec.Conv(n, List.copyOf(activations), pool);
            byRoot.put(c.root(), c);
        }
        return byRoot;
    }

    /** A float32 unary op the eager kernels run with FloatRows' row functions (relu, gelu, tanh, ...). */
    private static boolean activation(Graph g, Node n) {
        return n.inputs().size() == 1 && n.type().dtype() == DType.FLOAT32 && g.typeOf(n.inputs().get(0)).dtype() == DType.FLOAT32
                && n.op().def().elementwise() != null && n.op().def().elementwise().form() != dev.kiln.backend.op.ElementwiseSpec.Form.CONVERSION
                && n.op().def().elementwise().unaryRows(n.attrs()) != null;
    }

    static boolean elementwise(Graph g, Node n) {
        if (n.type().dtype() != DType.FLOAT32) return false;
        if (n.op() == Op.WHERE) return g.typeOf(n.inputs().get(0)).dtype() == DType.BOOL;
        return BlockOps.fusible(n.op());
    }

    /**
     * p when it is a reshape of an f32 2-D product's [m, n] (an addmm, or a matmul of 2-D
     * operands: a linear layer's input gradient), its only user, to [.., n] (the same row-major
     * memory): the product can finish in the group after it; else null.
     */
    private static Node rowsView(Graph g, Node p, Map<Value, Set<Node>> users, Set<Value> escaping) {
        if (p.op() != Op.RESHAPE || p.inputs().get(0).kind() != Value.Kind.NODE) return null;
        Value u = p.inputs().get(0);
        Node q = g.node(u.nodeId());
        boolean rows = q.op() == Op.ADDMM || q.op() == Op.MATMUL && g.typeOf(q.inputs().get(0)).rank() == 2;
        if (!rows || !gemm(g, q) || escaping.contains(u) || !Set.of(p).equals(users.get(u))) return null;
        Dim[] from = g.typeOf(u).shape(), to = p.type().shape();
        return to.length >= 2 && from[from.length - 1].equals(to[to.length - 1]) ? p : null;
    }

    static boolean gemm(Graph g, Node n) {
        if (n.type().dtype() != DType.FLOAT32) return false;
        for (Value v : n.inputs()) if (g.typeOf(v).dtype() != DType.FLOAT32) return false;
        if (n.op() == Op.ADDMM) return true;
        // [.., m, k] @ [k, n] too (a linear layer on [B, T, C]): the step runs it as one GEMM over
        // all rows of A when they are one run in memory, else as eager's per-batch kernel
        return n.op() == Op.MATMUL && g.typeOf(n.inputs().get(0)).rank() >= 2 && g.typeOf(n.inputs().get(1)).rank() == 2;
    }

    private static boolean sameShape(Graph g, Value a, Value b) {
        return Arrays.equals(g.typeOf(a).shape(), g.typeOf(b).shape());
    }
}
