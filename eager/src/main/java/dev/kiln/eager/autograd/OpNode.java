package dev.kiln.eager.autograd;

import dev.kiln.backend.DType;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.eager.Tensor;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/** The backward node of one primitive op; its rule comes from {@link Gradients}. */
public final class OpNode extends Node implements GradContext {
    private final Op op;
    private final Attrs attrs;
    private final Node[] next;
    private final boolean[] needs;
    private final int[][] inputShapes;
    private final DType[] inputDTypes;
    private Tensor[] inputs;
    private int[] inputVersions;
    private Tensor output;
    private int outputVersion;
    private boolean released;

    /** Records a node for {@code output = op(inputs)}; called by the dispatcher only. */
    public static OpNode record(Op op, Attrs attrs, Tensor[] inputs, Tensor output) {
        OpNode n = new OpNode(op, attrs, inputs, output);
        if (GradMode.isAnomalyEnabled()) n.forwardTrace = new Throwable().getStackTrace();
        return n;
    }

    private OpNode(Op op, Attrs attrs, Tensor[] inputs, Tensor output) {
        this.op = op;
        this.attrs = attrs;
        this.inputs = inputs.clone();
        this.next = new Node[inputs.length];
        this.needs = new boolean[inputs.length];
        this.inputVersions = new int[inputs.length];
        this.inputShapes = new int[inputs.length][];
        this.inputDTypes = new DType[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            Tensor t = inputs[i];
            inputVersions[i] = t.version();
            inputShapes[i] = t.data().shape();
            inputDTypes[i] = t.dtype();
            if (t.requiresGrad()) {
                needs[i] = true;
                next[i] = t.gradFn() != null ? t.gradFn() : t.gradAccumulator();
            }
        }
        this.output = output;
    }

    /** Set after the output tensor points back at this node (its version is then final). */
    public void outputReady() { outputVersion = output.version(); }

    public Op op() { return op; }

    @Override
    public String name() {
        StringBuilder sb = new StringBuilder();
        for (String part : op.opName().split("_")) {
            sb.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
        }
        return sb.append("Backward").toString();
    }

    @Override
    public List<Node> nextFunctions() { return Collections.unmodifiableList(Arrays.asList(next)); }

    Node[] edges() { return next; }

    @Override
    public Tensor input(int i) {
        checkAlive();
        Tensor t = inputs[i];
        if (t.version() != inputVersions[i]) throw versionError("input " + i, t, inputVersions[i]);
        return t;
    }

    @Override
    public int inputCount() { return needs.length; }

    @Override
    public int[] inputShape(int i) { return inputShapes[i].clone(); }

    @Override
    public Tensor inputForShape(int i) {
        if (released) {
            // saved tensors are gone; a one-element stand-in broadcast to the recorded shape
            // serves a rule that needs only the shape (a node saving nothing may run twice)
            dev.kiln.backend.Strided one = dev.kiln.backend.Strided.allocate(inputDTypes[i], new int[0]);
            return Tensor.wrap(new dev.kiln.backend.Strided(one.storage(), inputShapes[i].clone(), new int[inputShapes[i].length], 0));
        }
        return inputs[i];
    }

    @Override
    public DType inputDType(int i) { return inputDTypes[i]; }

    @Override
    public Tensor output() {
        checkAlive();
        if (output.version() != outputVersion) throw versionError("output", output, outputVersion);
        return output;
    }

    @Override
    public Attrs attrs() { return attrs; }

    @Override
    public boolean needsGrad(int i) { return needs[i]; }

    private void checkAlive() {
        if (released) {
            throw new IllegalStateException("Trying to backward through the graph a second time (or to use saved tensors of "
                    + name() + " after they were freed). Saved tensors are freed after backward(); call backward(grad, true, ...)"
                    + " (retainGraph) the first time if you need to backward twice.");
        }
    }

    private IllegalStateException versionError(String which, Tensor t, int expected) {
        return new IllegalStateException("one of the tensors needed for gradient computation has been modified by an in-place operation: "
                + op.opName() + " " + which + " " + t.typeString() + " is at version " + t.version() + "; expected version " + expected
                + (forwardSite() != null ? " (forward at " + forwardSite() + ")" : "")
                + ". Hint: avoid modifying that tensor in place, or clone() it before.");
    }

    @Override
    protected Tensor[] apply(Tensor gradOutput) {
        GradientRule rule = Gradients.rule(op);
        if (rule == null) throw new IllegalStateException(op.opName() + " is not differentiable");
        Tensor[] g = rule.apply(this, gradOutput);
        if (g.length != needs.length) throw new IllegalStateException(name() + " returned " + g.length + " gradients for " + needs.length + " inputs");
        for (int i = 0; i < g.length; i++) {
            if (!needs[i]) {
                g[i] = null;
            } else if (g[i] != null && !java.util.Arrays.equals(g[i].data().shape(), inputShapes[i])) {
                // recorded shapes: the inputs themselves may be released or rewritten by now
                throw new IllegalStateException(name() + ": gradient for input " + i + " has shape " + g[i].typeString()
                        + " but the input is " + inputDTypes[i].shortName() + java.util.Arrays.toString(inputShapes[i]));
            }
        }
        return g;
    }

    @Override
    protected void release() {
        released = true;
        inputs = null;
        output = null;
    }
}
