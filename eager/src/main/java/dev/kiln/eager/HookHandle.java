package dev.kiln.eager;

/** Removes a registered hook when closed. */
@FunctionalInterface
public interface HookHandle extends AutoCloseable {
    void remove();

    @Override
    default void close() { remove(); }
}
