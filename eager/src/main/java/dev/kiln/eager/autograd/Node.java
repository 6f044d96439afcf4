package dev.kiln.eager.autograd;

import dev.kiln.eager.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

/**
 * A node of the backward graph (a tensor's {@code gradFn()}): it maps the gradient of its
 * output to gradients of its inputs, which flow on to {@link #nextFunctions()}.
 */
public abstract class Node {
    private static final AtomicLong SEQUENCE = new AtomicLong();

    /** Creation order: the engine runs ready nodes latest-first, as PyTorch does. */
    final long sequence = SEQUENCE.incrementAndGet();
    final List<UnaryOperator<Tensor>> preHooks = new ArrayList<>(0);
    /** Non-leaf tensor whose {@code grad} is kept ({@code retainGrad}). */
    Tensor retained;
    /** Forward stack trace captured in anomaly mode. */
    StackTraceElement[] forwardTrace;

    /** Readable name such as {@code MulBackward}. */
    public abstract String name();

    /** The nodes the input gradients flow to, one per input (null for inputs that need none). */
    public abstract List<Node> nextFunctions();

    /** Computes input gradients from the output gradient; entries may be null. */
    protected abstract Tensor[] apply(Tensor gradOutput);

    /** Drops saved tensors after a backward without retainGraph. */
    protected void release() {}

    /** The Java source line of the forward op, when anomaly mode recorded it. */
    public String forwardSite() {
        if (forwardTrace == null) return null;
        for (StackTraceElement e : forwardTrace) {
            String c = e.getClassName();
            if (!c.startsWith("dev.kiln.eager.") && !c.startsWith("java.") && !c.startsWith("jdk.")) return e.toString();
        }
        return forwardTrace.length > 0 ? forwardTrace[0].toString() : null;
    }

    @Override
    public String toString() { return name(); }
}
