package dev.kiln.eager.autograd;

import dev.kiln.eager.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Base class of custom differentiable ops. {@code forward} runs without recording; the
 * result's gradFn calls {@code backward}. When backward is written with Tensor ops, it is
 * itself differentiable (create_graph); override {@link #onceDifferentiable()} to forbid that.
 *
 * <pre>{@code
 * class Cube extends Function {
 *   protected Tensor forward(FunctionCtx ctx, Tensor... in) { ctx.saveForBackward(in[0]); return in[0].pow(3); }
 *   protected Tensor[] backward(FunctionCtx ctx, Tensor g) { Tensor x = ctx.savedTensors()[0]; return new Tensor[] {g.mul(x.pow(2)).mul(3)}; }
 * }
 * Tensor y = new Cube().apply(x);
 * }</pre>
 */
public abstract class Function {

    protected abstract Tensor forward(FunctionCtx ctx, Tensor... inputs);

    /** One gradient per input (null where none). */
    protected abstract Tensor[] backward(FunctionCtx ctx, Tensor gradOutput);

    /** True when backward is not differentiable: a create_graph backward through it then fails. */
    protected boolean onceDifferentiable() { return false; }

    public final Tensor apply(Tensor... inputs) {
        FunctionCtx ctx = new FunctionCtx();
        boolean[] needs = new boolean[inputs.length];
        boolean any = false;
        for (int i = 0; i < inputs.length; i++) {
            needs[i] = inputs[i] != null && inputs[i].requiresGrad() && GradMode.isEnabled();
            any |= needs[i];
        }
        ctx.setup(name(), needs);
        Tensor out;
        try (var ng = Autograd.noGrad()) {
            out = forward(ctx, inputs);
        }
        if (any && !ctx.nonDifferentiableOutput) {
            // forward ran under noGrad, so out is a fresh tensor; attach our node to a shallow alias
            Tensor result = out.detach();
            Node[] next = new Node[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                if (needs[i]) next[i] = inputs[i].gradFn() != null ? inputs[i].gradFn() : inputs[i].gradAccumulator();
            }
            FunctionNode node = new FunctionNode(this, ctx, next, inputs);
            if (GradMode.isAnomalyEnabled()) node.forwardTrace = new Throwable().getStackTrace();
            result.setGradFn(node);
            return result;
        }
        return out;
    }

    /** The gradFn name: the class name plus "Backward". */
    protected String name() {
        String n = getClass().getSimpleName();
        return (n.isEmpty() ? "Function" : n) + "Backward";
    }

    private static final class FunctionNode extends Node {
        private final Function fn;
        private final FunctionCtx ctx;
        private final Node[] next;
        private final int[][] inputShapes;

        FunctionNode(Function fn, FunctionCtx ctx, Node[] next, Tensor[] inputs) {
            this.fn = fn;
            this.ctx = ctx;
            this.next = next;
            this.inputShapes = new int[inputs.length][];
            for (int i = 0; i < inputs.length; i++) inputShapes[i] = inputs[i] == null ? null : inputs[i].data().shape();
        }

        @Override
        public String name() { return fn.name(); }

        @Override
        public List<Node> nextFunctions() { return Arrays.asList(next); }

        @Override
        protected Tensor[] apply(Tensor gradOutput) {
            boolean createGraph = GradMode.isEnabled();
            Tensor[] g;
            if (fn.onceDifferentiable()) {
                try (var ng = Autograd.noGrad()) {
                    g = fn.backward(ctx, gradOutput);
                }
                if (createGraph) {
                    for (int i = 0; i < g.length; i++) {
                        if (g[i] != null) {
                            Tensor alias = g[i].detach();
                            alias.setGradFn(new OnceDifferentiableNode(fn.name()));
                            g[i] = alias;
                        }
                    }
                }
            } else {
                g = fn.backward(ctx, gradOutput);
            }
            if (g.length != next.length) {
                throw new IllegalStateException(name() + ": backward returned " + g.length + " gradients, but forward had " + next.length + " inputs");
            }
            for (int i = 0; i < g.length; i++) {
                if (next[i] == null) g[i] = null;
                else if (g[i] != null && !Arrays.equals(g[i].data().shape(), inputShapes[i])) {
                    throw new IllegalStateException(name() + ": gradient " + i + " has shape " + Arrays.toString(g[i].data().shape())
                            + " but input " + i + " has shape " + Arrays.toString(inputShapes[i]));
                }
            }
            return g;
        }

        @Override
        protected void release() { ctx.release(); }
    }

    private static final class OnceDifferentiableNode extends Node {
        private final String owner;

        OnceDifferentiableNode(String owner) { this.owner = owner; }

        @Override
        public String name() { return "OnceDifferentiableBackward"; }

        @Override
        public List<Node> nextFunctions() { return List.of(); }

        @Override
        protected Tensor[] apply(Tensor g) {
            throw new IllegalStateException("trying to differentiate twice a function that was marked once-differentiable (" + owner + ")");
        }
    }
}
