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

    /**
     * The engine's entry: {@code owned} says no one else holds gradOutput (see Engine), which a
     * node that stores its gradient (AccumulateGrad) may use to keep it without a copy.
     */
    Tensor[] run(Tensor gradOutput, boolean owned) {
        return apply(gradOutput);
    }

    /** Drops saved tensors after a backward without retainGraph. */
    protected void release() {}

    /** The Java source line of the forward op, when anomaly mode recorded it. */
    public String forwardSite() {
        if (forwardTrace == null) return null;
        for (StackTraceElement e : forwardTrace) {
            if (!isKilnOrJdk(e.getClassName())) return e.toString();
        }
        return forwardTrace.length > 0 ? forwardTrace[0].toString() : null;
    }

    private static final java.util.Map<String, Boolean> INTERNAL = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Frames to skip when looking for the user's line: the JDK and the eager module itself.
     * A package prefix is not enough, since user code (tests, examples) may share it; the eager
     * module's classes are told apart by their code source.
     */
    private static boolean isKilnOrJdk(String className) {
        if (className.startsWith("java.") || className.startsWith("jdk.")) return true;
        if (!className.startsWith("dev.kiln.eager.")) return false;
        return INTERNAL.computeIfAbsent(className, n -> {
            try {
                return sameCodeSource(Class.forName(n, false, Node.class.getClassLoader()), Node.class);
            } catch (ClassNotFoundException | LinkageError | SecurityException e) {
                return false; // not loadable by the eager module: not one of its classes
            }
        });
    }

    private static boolean sameCodeSource(Class<?> a, Class<?> b) {
        var sa = a.getProtectionDomain().getCodeSource();
        var sb = b.getProtectionDomain().getCodeSource();
        if (sa == null || sb == null) return true; // no location to compare: trust the package name
        return java.util.Objects.equals(sa.getLocation(), sb.getLocation());
    }

    @Override
    public String toString() { return name(); }
}
