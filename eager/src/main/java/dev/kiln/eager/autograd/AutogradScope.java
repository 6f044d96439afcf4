package dev.kiln.eager.autograd;

/** A grad-mode scope; closing it restores the previous mode. Use with try-with-resources. */
public final class AutogradScope implements AutoCloseable {
    private final GradMode.State state;
    private final boolean enabled;
    private final boolean inference;
    private final boolean anomaly;
    private boolean closed;

    AutogradScope(boolean enabled, boolean inference, boolean anomaly) {
        this.state = GradMode.state();
        this.enabled = state.enabled;
        this.inference = state.inference;
        this.anomaly = state.anomaly;
        state.enabled = enabled;
        state.inference = inference;
        state.anomaly = anomaly;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        state.enabled = enabled;
        state.inference = inference;
        state.anomaly = anomaly;
    }
}
