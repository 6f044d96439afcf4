package dev.kiln.eager.autograd;

import dev.kiln.eager.Tensor;
import java.util.function.Function;

/** Static entry points of autograd: functional grad, grad-mode scopes and gradient checks. */
public final class Autograd {
    private Autograd() {}

    /** Disables recording for the scope: {@code try (var g = Autograd.noGrad()) {...}}. */
    public static AutogradScope noGrad() {
        GradMode.State s = GradMode.state();
        return new AutogradScope(false, s.inference, s.anomaly);
    }

    public static AutogradScope enableGrad() {
        GradMode.State s = GradMode.state();
        return new AutogradScope(true, false, s.anomaly);
    }

    /** No recording; tensors made here must not be used with autograd later. In-place writes still bump versions. */
    public static AutogradScope inferenceMode() {
        GradMode.State s = GradMode.state();
        return new AutogradScope(false, true, s.anomaly);
    }

    /** Records each forward op's Java stack and fails at the first NaN/Inf produced in backward. */
    public static AutogradScope detectAnomaly() {
        GradMode.State s = GradMode.state();
        return new AutogradScope(s.enabled, s.inference, true);
    }

    /** {@code tensor.backward(...)}: accumulates into leaves' {@code grad()}. */
    public static void backward(Tensor root, Tensor grad, boolean retainGraph, boolean createGraph) {
        Engine.run(new Tensor[] {root}, new Tensor[] {grad}, retainGraph, createGraph, null);
    }

    /**
     * Gradients of {@code outputs} (weighted by {@code gradOutputs}, ones for scalars when null)
     * with respect to {@code inputs}, without touching any {@code grad()}.
     */
    public static Tensor[] grad(Tensor[] outputs, Tensor[] inputs, Tensor[] gradOutputs, boolean retainGraph,
                                boolean createGraph, boolean allowUnused) {
        Tensor[] gos = new Tensor[outputs.length];
        for (int i = 0; i < outputs.length; i++) {
            gos[i] = gradOutputs != null && gradOutputs[i] != null ? gradOutputs[i] : defaultGrad(outputs[i], "grad");
        }
        Node[] capture = new Node[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            Tensor t = inputs[i];
            if (!t.requiresGrad()) throw new IllegalArgumentException("grad: input " + i + " does not require grad");
            capture[i] = t.gradFn() != null ? t.gradFn() : t.gradAccumulator();
        }
        Tensor[] res = Engine.run(outputs, gos, retainGraph, createGraph, capture);
        for (int i = 0; i < res.length; i++) {
            if (res[i] == null && !allowUnused) {
                throw new IllegalArgumentException("grad: input " + i + " " + inputs[i].typeString()
                        + " was not used in the graph of the outputs; pass allowUnused=true to get null for it");
            }
        }
        return res;
    }

    /** Short form: scalar outputs, no retained graph. */
    public static Tensor[] grad(Tensor output, Tensor... inputs) {
        return grad(new Tensor[] {output}, inputs, null, false, false, false);
    }

    static Tensor defaultGrad(Tensor out, String what) {
        if (out.data().numel() != 1) {
            throw new IllegalArgumentException(what + " can be implicitly created only for scalar outputs, got " + out.typeString()
                    + "; pass a gradient tensor of the output's shape");
        }
        return Tensor.onesLike(out);
    }

    /** Float64 central-difference check of {@code fn}'s gradients; throws with a report on mismatch. */
    public static boolean gradcheck(Function<Tensor[], Tensor> fn, Tensor... inputs) {
        return GradCheck.check(in -> new Tensor[] {fn.apply(in)}, inputs, GradCheck.Tolerances.DEFAULT);
    }

    /** Checks the gradients of the gradients (create_graph backward) the same way. */
    public static boolean gradgradcheck(Function<Tensor[], Tensor> fn, Tensor... inputs) {
        return GradCheck.gradgrad(in -> new Tensor[] {fn.apply(in)}, inputs, GradCheck.Tolerances.DEFAULT);
    }

    /** The backward graph below {@code t} as indented text. */
    public static String graphText(Tensor t) { return BackwardGraphPrinter.text(t); }

    /** The backward graph below {@code t} in Graphviz DOT. */
    public static String graphDot(Tensor t) { return BackwardGraphPrinter.dot(t); }
}
