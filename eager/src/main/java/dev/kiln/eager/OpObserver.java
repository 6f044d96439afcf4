package dev.kiln.eager;

import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;

/** Sees every op that goes through the dispatcher on this thread (the tracer is one). */
public interface OpObserver {
    void onOp(Op op, Attrs attrs, Tensor[] inputs, Tensor output);

    /** An in-place write: {@code target}'s storage now holds {@code value}'s data. */
    default void onInPlace(Tensor target, Tensor value) {}

    /** A traced value read into Java ({@code item()}, {@code toFloatArray()}, a comparison). */
    default void onRead(Tensor t, String what) {}

    /**
     * Sizes of {@code t} read into Java ({@code shape()}, {@code shape(d)}, {@code size(d)},
     * {@code numel()}): {@code dims} are the dims read, null for all of them.
     */
    default void onShapeRead(Tensor t, int[] dims, String what) {}

    /** {@code alias} holds {@code source}'s data under another Tensor ({@code detach()}): the same value. */
    default void onAlias(Tensor source, Tensor alias) {}

    /** Dim d of t as the trace sees it (a symbol such as {@code T} for a dynamic dim), or null when t is not traced. */
    default dev.kiln.backend.shape.Dim symbolicDim(Tensor t, int d) { return null; }

    /** A symbolic size ({@link SymInt}) read into a Java number: the same assumption as a shape read. */
    default void onSizeRead(dev.kiln.backend.shape.Dim dim, long value, String what) {}

    /**
     * {@code result = source.to(device)} moved a tensor to another device. The copy itself was
     * reported just before as a {@code clone} op (whose output is {@code result}); this says
     * that its device changed, which no op records (graphs carry no devices).
     */
    default void onDeviceMove(Tensor source, Tensor result) {}

    /**
     * A {@link ControlFlow} construct is about to run. A tracer records it as one node and returns
     * its results; null lets it run eagerly, its ops reported one by one (unrolled).
     */
    default Tensor[] onControlFlow(ControlFlow.Call call) { return null; }
}
