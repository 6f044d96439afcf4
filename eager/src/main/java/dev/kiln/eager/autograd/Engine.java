package dev.kiln.eager.autograd;

import dev.kiln.eager.Tensor;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.Collections;

/**
 * The backward engine: iterative (no recursion, so 100k-node chains are fine), topological by
 * dependency counts, ready nodes taken latest-created first so accumulation order is the same
 * on every run.
 */
final class Engine {
    private Engine() {}

    /**
     * Runs backward from {@code roots}. When {@code capture} is non-null (functional grad),
     * gradients arriving at those nodes are returned instead of accumulated into leaves.
     */
    static Tensor[] run(Tensor[] roots, Tensor[] rootGrads, boolean retainGraph, boolean createGraph, Node[] capture) {
        Map<Node, Integer> deps = new IdentityHashMap<>();
        Map<Node, Tensor> buffers = new IdentityHashMap<>();
        Node[] rootNodes = new Node[roots.length];
        for (int i = 0; i < roots.length; i++) {
            Tensor r = roots[i];
            Node n = r.gradFn() != null ? r.gradFn() : (r.requiresGrad() ? r.gradAccumulator() : null);
            if (n == null) {
                throw new IllegalStateException("element " + i + " of tensors does not require grad and does not have a gradFn "
                        + "(did you forget requiresGrad(true), or compute it under noGrad()?)");
            }
            rootNodes[i] = n;
            // a seed of another float dtype is cast to its output's, as PyTorch's engine does:
            // gradient rules assume their output's dtype (matmul refuses mixed operands)
            Tensor seed = rootGrads[i];
            if (seed.dtype() != r.dtype() && seed.dtype().isFloatingPoint() && r.dtype().isFloatingPoint()) seed = seed.to(r.dtype());
            buffers.merge(n, seed, Tensor::add);
        }
        Map<Node, List<Node>> parents = capture == null ? null : new IdentityHashMap<>();
        countDependencies(rootNodes, deps, parents);
        Map<Node, Integer> captureIndex = new IdentityHashMap<>();
        Tensor[] captured = capture == null ? null : new Tensor[capture.length];
        if (capture != null) for (int i = 0; i < capture.length; i++) captureIndex.put(capture[i], i);
        // a functional grad runs only the nodes with a path to a captured one, as PyTorch's does:
        // nothing past the inputs asked for (a captured non-leaf's history, with its hooks and
        // side effects, is not this call's business)
        Set<Node> leadsToCapture = capture == null ? null : ancestors(captureIndex.keySet(), parents);
        // the roots always run (a once-differentiable node there reports itself)
        if (leadsToCapture != null) leadsToCapture.addAll(java.util.Arrays.asList(rootNodes));

        // Gradients nothing else references: computed by a built-in rule into storage of their
        // own (not shared with a sibling output, and not the incoming gradient or a view of it
        // unless that one was owned: a transpose of a fresh product is still private), or sums
        // made here. A leaf may keep such a gradient as its .grad instead of a copy.
        Set<Tensor> owned = Collections.newSetFromMap(new IdentityHashMap<>());
        PriorityQueue<Node> ready = new PriorityQueue<>((a, b) -> Long.compare(b.sequence, a.sequence));
        // gradients of step-1 slices, per sliced tensor's node, joined when that node runs
        Map<Node, SlicePieces> slices = new IdentityHashMap<>();
        for (Node n : rootNodes) {
            if (deps.getOrDefault(n, 0) == 0 && !ready.contains(n)) ready.add(n);
        }
        try (AutogradScope scope = createGraph ? Autograd.enableGrad() : Autograd.noGrad()) {
            while (!ready.isEmpty()) {
                Node node = ready.poll();
                Tensor g = buffers.remove(node);
                SlicePieces pieces = slices.remove(node);
                if (pieces != null) {
                    if (g != null) owned.remove(g);
                    g = pieces.join(g);
                    if (!createGraph && !pieces.isPiece(g)) owned.add(g); // a cat or sum made here
                }
                // Ownership is settled here, before any hook can see g: a hook may keep it (or
                // return another tensor), and the capture keeps it, so then it is not private.
                boolean gOwned = g != null && owned.remove(g) && !createGraph && node.preHooks.isEmpty()
                        && !captureIndex.containsKey(node);
                Tensor[] outs = null;
                boolean pruned = leadsToCapture != null && !leadsToCapture.contains(node) && !captureIndex.containsKey(node);
                if (g != null && !pruned) {
                    for (var h : node.preHooks) {
                        Tensor r = h.apply(g);
                        if (r != null) g = r;
                    }
                    if (node.retained != null) {
                        Tensor cur = node.retained.grad();
                        // a private copy, as for leaves (AccumulateGrad): g may be shared with other grads
                        node.retained.setGrad(cur == null ? g.clone() : cur.add(g));
                    }
                    Integer ci = captureIndex.get(node);
                    if (ci != null) captured[ci] = captured[ci] == null ? g : captured[ci].add(g);
                    boolean skip = capture != null && (node instanceof AccumulateGrad || !leadsToCapture.contains(node));
                    if (!skip && capture == null && !GradMode.isAnomalyEnabled() && holdSlice(node, g, slices)) {
                        skip = true; // joined with the other pieces when its input's node runs
                    }
                    if (!skip) {
                        outs = node.run(g, gOwned);
                        // an owned g is only this node's now, so views of it a built-in rule returns are owned too
                        if (!createGraph && node instanceof OpNode) markOwned(g, gOwned, outs, owned);
                        if (GradMode.isAnomalyEnabled()) checkFinite(node, outs);
                    }
                }
                List<Node> next = node.nextFunctions();
                for (int i = 0; i < next.size(); i++) {
                    Node child = next.get(i);
                    if (child == null) continue;
                    if (outs != null && outs[i] != null) {
                        Tensor prev = buffers.get(child);
                        if (prev == null) {
                            buffers.put(child, outs[i]);
                        } else if (!createGraph && owned.contains(prev) && InPlaceAccumulation.canAdd(prev, outs[i])) {
                            prev.add_(outs[i]);
                            owned.remove(outs[i]);
                        } else {
                            Tensor sum = prev.add(outs[i]);
                            buffers.put(child, sum);
                            owned.remove(prev);
                            owned.remove(outs[i]);
                            if (!createGraph) owned.add(sum);
                        }
                    }
                    int left = deps.merge(child, -1, Integer::sum);
                    if (left == 0) ready.add(child);
                }
                if (!retainGraph) node.release();
            }
        }
        return captured;
    }

    /** Holds a step-1 slice's gradient for its input's node ({@link SlicePieces}); false for any other node. */
    private static boolean holdSlice(Node node, Tensor g, Map<Node, SlicePieces> slices) {
        List<Node> next = node.nextFunctions();
        if (next.size() != 1 || next.get(0) == null) return false;
        SlicePieces.Piece p = SlicePieces.of(node, g);
        if (p == null) return false;
        slices.computeIfAbsent(next.get(0), k -> new SlicePieces()).add(p);
        return true;
    }

    private static void markOwned(Tensor in, boolean inOwned, Tensor[] outs, Set<Tensor> owned) {
        for (int i = 0; i < outs.length; i++) {
            Tensor o = outs[i];
            if (o == null || (!inOwned && o.data().storage() == in.data().storage())) continue;
            boolean shared = false;
            for (int j = 0; j < outs.length && !shared; j++) {
                shared = j != i && outs[j] != null && outs[j].data().storage() == o.data().storage();
            }
            if (!shared) owned.add(o);
        }
    }

    /** The nodes with a path of at least one edge to one of {@code targets}, over the reversed edges in {@code parents}. */
    private static Set<Node> ancestors(Set<Node> targets, Map<Node, List<Node>> parents) {
        Set<Node> out = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Node> queue = new ArrayDeque<>(targets);
        while (!queue.isEmpty()) {
            for (Node p : parents.getOrDefault(queue.poll(), List.of())) if (out.add(p)) queue.add(p);
        }
        return out;
    }

    private static void countDependencies(Node[] roots, Map<Node, Integer> deps, Map<Node, List<Node>> parents) {
        ArrayDeque<Node> stack = new ArrayDeque<>();
        Map<Node, Boolean> seen = new IdentityHashMap<>();
        for (Node r : roots) {
            if (seen.put(r, Boolean.TRUE) == null) stack.push(r);
        }
        while (!stack.isEmpty()) {
            Node n = stack.pop();
            for (Node c : n.nextFunctions()) {
                if (c == null) continue;
                deps.merge(c, 1, Integer::sum);
                if (parents != null) parents.computeIfAbsent(c, k -> new java.util.ArrayList<>()).add(n);
                if (seen.put(c, Boolean.TRUE) == null) stack.push(c);
            }
        }
    }

    private static void checkFinite(Node node, Tensor[] outs) {
        for (int i = 0; i < outs.length; i++) {
            Tensor t = outs[i];
            if (t == null || !t.dtype().isFloatingPoint()) continue;
            if (!t.isfinite().all().itemBool()) {
                String site = node.forwardSite();
                throw new IllegalStateException("Function '" + node.name() + "' returned nan or inf values in its " + i + "th output"
                        + (site != null ? "; the forward op was called at " + site : ""));
            }
        }
    }
}
