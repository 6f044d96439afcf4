package dev.kiln.eager.autograd;

import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.eager.ControlFlow;
import dev.kiln.eager.Dispatcher;
import dev.kiln.eager.OpObserver;
import dev.kiln.eager.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * A scan differentiated as one unit: the forward runs as a single scan that also stacks the
 * carries each step received, and the backward is one reverse scan whose step re-runs the step
 * function on the stored carries and takes its vector-Jacobian product (carries' gradients flow
 * back step to step, the captured tensors' gradients are summed in carries, the scanned inputs'
 * gradients are stacked). Eager code differentiates the unrolled ops instead (the same numbers,
 * without the recomputation); this form is what a traced training step records, so its graph
 * has two scan nodes and the sequence length stays symbolic.
 */
public final class ScanGradients {
    private ScanGradients() {}

    /** The scan's outputs (final carries, stacked ys), attached to one backward node. */
    public static Tensor[] scan(ControlFlow.Scan s) {
        int c = s.init().length;
        if (s.xs()[0].data().shape()[s.dim()] == 0) {
            throw new IllegalArgumentException("scan: a scan of length 0 in a traced training step: trace it with at least one step");
        }
        for (Tensor t : s.init()) {
            if (s.dim() > t.dim()) {
                throw new IllegalArgumentException("scan: a traced training step stacks each step's carries along dim " + s.dim()
                        + ", which a carry " + t.typeString() + " does not have; scan along dim 0 (or give the carry that many dims)");
            }
        }
        Tensor[] captures = capturesRequiringGrad(s);
        ControlFlow.ScanOutput fwd;
        try (var ng = Autograd.noGrad()) {
            fwd = ControlFlow.scan((carries, slices) -> {
                ControlFlow.ScanOutput r = s.fn().apply(carries.clone(), slices);
                return new ControlFlow.ScanOutput(r.carries(), concat(r.ys(), carries));
            }, s.init(), s.xs(), s.dim(), s.reverse());
        }
        int m = fwd.ys().length - c;
        Tensor[] history = Arrays.copyOfRange(fwd.ys(), m, m + c);
        Tensor[] outputs = concat(fwd.carries(), Arrays.copyOf(fwd.ys(), m));
        Tensor[] inputs = concat(concat(s.init(), s.xs()), captures);
        boolean any = false;
        for (Tensor t : inputs) any |= t.requiresGrad();
        if (!any || !GradMode.isEnabled()) return outputs;
        ScanBackward node = new ScanBackward(s, captures, history, outputs, inputs);
        Tensor[] result = new Tensor[outputs.length];
        for (int i = 0; i < outputs.length; i++) {
            result[i] = outputs[i].detach();
            if (outputs[i].dtype().isFloatingPoint()) result[i].setGradFn(node.slot(i));
        }
        return result;
    }

    /**
     * Tensors the step function reads from outside (a weight, an earlier result) that require a
     * gradient: found by running one step unrecorded and noting op inputs that are neither its
     * arguments nor made during the step.
     */
    private static Tensor[] capturesRequiringGrad(ControlFlow.Scan s) {
        Set<Tensor> inside = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Tensor> found = new ArrayList<>();
        String[] random = {null};
        OpObserver prev = Dispatcher.setObserver(null);
        try {
            Tensor[] slices = new Tensor[s.xs().length];
            for (int j = 0; j < slices.length; j++) slices[j] = s.xs()[j].select(s.dim(), 0);
            inside.addAll(Arrays.asList(s.init()));
            inside.addAll(Arrays.asList(slices));
            Dispatcher.setObserver(new OpObserver() {
                @Override
                public void onOp(Op op, Attrs attrs, Tensor[] in, Tensor out) {
                    // the backward re-runs the step: a random draw there would not be the forward's
                    if (op.opName().startsWith("rand")) random[0] = op.opName();
                    for (Tensor t : in) {
                        if (!inside.contains(t) && t.requiresGrad() && found.stream().noneMatch(f -> f == t)) found.add(t);
                    }
                    inside.add(out);
                }

                @Override
                public void onAlias(Tensor source, Tensor alias) {
                    if (inside.contains(source)) inside.add(alias);
                }
            });
            try (var ng = Autograd.noGrad()) {
                s.fn().apply(s.init().clone(), slices);
            }
        } finally {
            Dispatcher.setObserver(prev);
        }
        if (random[0] != null) {
            throw new IllegalArgumentException("scan: the step function draws random numbers (" + random[0] + ", dropout?); a traced training"
                    + " step recomputes each step in its backward and would draw other ones. Apply dropout outside the scan, or train eagerly");
        }
        return found.toArray(new Tensor[0]);
    }

    static Tensor[] concat(Tensor[] a, Tensor[] b) {
        Tensor[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /**
     * Collects the gradients of every output through one {@link Slot} per output (a node has one
     * output in this engine); the engine runs it after every slot that a gradient reached.
     */
    private static final class ScanBackward extends Node {
        private final ControlFlow.Scan scan;
        private final Tensor[] captures, outputs, inputs;
        private Tensor[] history;
        private final Tensor[] slots;
        private final List<Node> next = new ArrayList<>();

        ScanBackward(ControlFlow.Scan scan, Tensor[] captures, Tensor[] history, Tensor[] outputs, Tensor[] inputs) {
            this.scan = scan;
            this.captures = captures;
            this.history = history;
            this.outputs = outputs;
            this.inputs = inputs;
            this.slots = new Tensor[outputs.length];
            for (Tensor t : inputs) next.add(!t.requiresGrad() ? null : t.gradFn() != null ? t.gradFn() : t.gradAccumulator());
        }

        Node slot(int i) { return new Slot(this, i); }

        @Override
        public String name() { return "ScanBackward"; }

        @Override
        public List<Node> nextFunctions() { return next; }

        @Override
        protected Tensor[] apply(Tensor ignored) {
            if (history == null) throw new IllegalStateException("ScanBackward: trying to backward through the scan a second time; pass retainGraph=true the first time");
            int c = scan.init().length, x = scan.xs().length, k = captures.length, m = outputs.length - c;
            Tensor[] g = new Tensor[outputs.length];
            for (int i = 0; i < g.length; i++) g[i] = slots[i] != null ? slots[i] : Tensor.zerosLike(outputs[i]);
            Arrays.fill(slots, null);
            Tensor[] carries = Arrays.copyOf(g, c);
            Tensor[] acc = new Tensor[k];
            for (int i = 0; i < k; i++) acc[i] = Tensor.zerosLike(captures[i]);
            Tensor[] xs = concat(concat(history, scan.xs()), Arrays.copyOfRange(g, c, c + m));
            boolean createGraph = GradMode.isEnabled();
            ControlFlow.ScanOutput rev = ControlFlow.scan((state, sl) -> vjpStep(state, sl, c, x, k, createGraph),
                    concat(carries, acc), xs, scan.dim(), !scan.reverse());
            Tensor[] grads = concat(concat(Arrays.copyOf(rev.carries(), c), rev.ys()), Arrays.copyOfRange(rev.carries(), c, c + k));
            for (int i = 0; i < grads.length; i++) if (!inputs[i].requiresGrad()) grads[i] = null;
            return grads;
        }

        /**
         * One reverse step: the step function re-run on the carries it received and its slices,
         * and its vector-Jacobian product with the gradients of its carries and ys.
         */
        private ControlFlow.ScanOutput vjpStep(Tensor[] state, Tensor[] sl, int c, int x, int k, boolean createGraph) {
            Tensor[] gCarry = Arrays.copyOf(state, c), acc = Arrays.copyOfRange(state, c, c + k);
            Tensor[] in = new Tensor[c + x];
            for (int i = 0; i < c + x; i++) {
                Tensor t = sl[i].detach();
                in[i] = t.dtype().isFloatingPoint() ? t.requiresGrad(true) : t;
            }
            ControlFlow.ScanOutput r;
            try (var eg = Autograd.enableGrad()) {
                r = scan.fn().apply(Arrays.copyOf(in, c), Arrays.copyOfRange(in, c, c + x));
            }
            Tensor[] outs = concat(r.carries(), r.ys());
            Tensor[] gouts = concat(gCarry, Arrays.copyOfRange(sl, c + x, sl.length));
            List<Tensor> o = new ArrayList<>(), go = new ArrayList<>();
            for (int i = 0; i < outs.length; i++) {
                if (outs[i].requiresGrad()) {
                    o.add(outs[i]);
                    go.add(gouts[i]);
                }
            }
            List<Tensor> wrt = new ArrayList<>();
            for (Tensor t : in) if (t.requiresGrad()) wrt.add(t);
            wrt.addAll(Arrays.asList(captures));
            Tensor[] d = new Tensor[wrt.size()];
            if (!o.isEmpty() && !wrt.isEmpty()) {
                // retainGraph: a capture computed outside the scan has its own graph, which this
                // product must leave intact for the enclosing backward
                d = Autograd.grad(o.toArray(new Tensor[0]), wrt.toArray(new Tensor[0]), go.toArray(new Tensor[0]), true, createGraph, true);
            }
            Tensor[] newCarry = new Tensor[c], dx = new Tensor[x];
            int w = 0;
            for (int i = 0; i < c + x; i++) {
                Tensor gi = in[i].requiresGrad() ? d[w++] : null;
                if (gi == null) gi = Tensor.zerosLike(sl[i]);
                if (i < c) newCarry[i] = gi;
                else dx[i - c] = gi;
            }
            Tensor[] newAcc = new Tensor[k];
            for (int i = 0; i < k; i++, w++) newAcc[i] = d[w] == null ? acc[i] : acc[i].add(d[w]);
            return new ControlFlow.ScanOutput(concat(newCarry, newAcc), dx);
        }

        @Override
        protected void release() { history = null; }
    }

    /** Output i's gradFn: hands its gradient to the scan's backward node. */
    private static final class Slot extends Node {
        /** What a slot passes on: the node reads the gradients it was handed, not this. */
        private static final Tensor MARKER = Tensor.wrap(Strided.allocate(DType.FLOAT32, new int[0]));
        private final ScanBackward owner;
        private final int index;

        Slot(ScanBackward owner, int index) {
            this.owner = owner;
            this.index = index;
        }

        @Override
        public String name() { return "ScanBackward[" + index + "]"; }

        @Override
        public List<Node> nextFunctions() { return List.of(owner); }

        @Override
        protected Tensor[] apply(Tensor g) {
            owner.slots[index] = owner.slots[index] == null ? g : owner.slots[index].add(g);
            return new Tensor[] {MARKER};
        }
    }
}
