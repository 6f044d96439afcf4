package dev.kiln.eager.autograd;

import dev.kiln.eager.Device;
import dev.kiln.eager.Tensor;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The gradFn of {@code x.to(device)} (PyTorch's {@code ToCopyBackward}): it sends the output's
 * gradient back to x's device, with {@code grad.to(source)}, so gradients flow across a move.
 *
 * <p>A move is an autograd node rather than a primitive {@code Op}: the graph IR has no devices
 * (a traced graph runs wherever it is executed), so there is nothing for a graph node to do, and
 * its forward and backward are both a {@code clone} through the dispatcher plus a device tag.
 * It is not a custom {@link Function} either, because {@code Function.apply} hands back a new
 * alias of its forward's result: the tracer recorded the forward's result, not the alias, and
 * would see the alias as a captured constant. The node is attached to the dispatcher's own
 * result instead, with the same wiring {@code Function} uses.
 */
public final class ToDeviceBackward extends Node {
    private final Device source;
    private final Node[] next;

    private ToDeviceBackward(Device source, Node next) {
        this.source = source;
        this.next = new Node[] {next};
    }

    /**
     * Makes {@code output} (a copy of {@code input} on another device, made under noGrad) the
     * result of a recorded move: called by {@code Tensor.to(Device)} when grad mode is on and
     * input requires grad.
     */
    public static void record(Tensor input, Tensor output) {
        if (!input.requiresGrad()) throw new IllegalArgumentException("ToDeviceBackward: the input does not require grad");
        if (output.gradFn() != null) throw new IllegalArgumentException("ToDeviceBackward: the output already has a gradFn (" + output.gradFn() + ")");
        Node next = input.gradFn() != null ? input.gradFn() : input.gradAccumulator();
        ToDeviceBackward n = new ToDeviceBackward(input.device(), next);
        if (GradMode.isAnomalyEnabled()) n.forwardTrace = new Throwable().getStackTrace();
        output.setGradFn(n);
    }

    /** The device the gradient is sent back to (the input's). */
    public Device sourceDevice() { return source; }

    @Override
    public String name() { return "ToDeviceBackward"; }

    @Override
    public List<Node> nextFunctions() { return Collections.unmodifiableList(Arrays.asList(next)); }

    /** With create_graph the move back is itself recorded, so the gradient stays differentiable. */
    @Override
    protected Tensor[] apply(Tensor gradOutput) { return new Tensor[] {gradOutput.to(source)}; }
}
