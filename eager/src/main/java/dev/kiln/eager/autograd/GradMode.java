package dev.kiln.eager.autograd;

/** Thread-local autograd switches, changed only through {@link Autograd}'s scopes. */
public final class GradMode {
    private GradMode() {}

    static final class State {
        boolean enabled = true;
        boolean inference;
        boolean anomaly;
    }

    private static final ThreadLocal<State> STATE = ThreadLocal.withInitial(State::new);

    static State state() { return STATE.get(); }

    public static boolean isEnabled() { return STATE.get().enabled; }

    public static boolean isInference() { return STATE.get().inference; }

    public static boolean isAnomalyEnabled() { return STATE.get().anomaly; }
}
