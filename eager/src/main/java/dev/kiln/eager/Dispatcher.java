package dev.kiln.eager;

import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.CpuKernels;
import dev.kiln.backend.device.CpuFallback;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.op.OpDef;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.eager.autograd.GradMode;
import dev.kiln.eager.autograd.OpNode;

/**
 * The one funnel every Tensor operation goes through: check and infer the result type, run
 * the backend kernel, record the autograd node, tell the observer (tracer).
 */
public final class Dispatcher {
    private Dispatcher() {}

    private static final ThreadLocal<OpObserver> OBSERVER = new ThreadLocal<>();

    /** Installs an observer for this thread; returns the previous one (restore it when done). */
    public static OpObserver setObserver(OpObserver o) {
        OpObserver prev = OBSERVER.get();
        if (o == null) OBSERVER.remove();
        else OBSERVER.set(o);
        return prev;
    }

    public static OpObserver observer() { return OBSERVER.get(); }

    /** The op's attributes validated against its schema (defaults filled in). */
    private static Attrs checked(OpDef def, Attrs attrs) {
        return attrs.names().isEmpty() && def.attrSpecs().isEmpty() ? Attrs.EMPTY : def.checkAttrs(attrs);
    }

    public static Tensor apply(Op op, Attrs attrs, Tensor... inputs) { return apply(op, attrs, null, inputs); }

    /**
     * As {@link #apply(Op, Attrs, Tensor...)}, with the attributes a tracer records when they
     * differ from the ones the kernel runs with: {@code traced} holds symbolic sizes
     * ({@link SymInt}) where {@code attrs} holds this run's numbers. Null: the same.
     */
    public static Tensor apply(Op op, Attrs attrs, Attrs traced, Tensor... inputs) {
        OpDef def = op.def();
        Attrs checked = checked(def, attrs);
        TensorType[] types = new TensorType[inputs.length];
        Strided[] data = new Strided[inputs.length];
        boolean needsGrad = false;
        for (int i = 0; i < inputs.length; i++) {
            Tensor t = inputs[i];
            if (t == null) throw new IllegalArgumentException(op.opName() + ": input " + i + " is null");
            types[i] = t.type();
            data[i] = t.data();
            needsGrad |= t.requiresGrad();
        }
        Device device = Device.common(op.opName(), inputs);
        TensorType out = def.inferType(types, checked);
        // view ops only rewrite (shape, strides, offset) of host-visible data: same code on every device
        Strided result = device.isCpu() || def.isView() ? CpuKernels.run(op, data, checked, out)
                : CpuFallback.run(device.executor(), op, data, checked, out);
        Tensor r = new Tensor(result);
        if (!device.isCpu()) r.setDevice(device);
        if (def.isView()) r.setViewBase(inputs[0]);
        if (needsGrad && def.differentiable() && GradMode.isEnabled() && r.dtype().isFloatingPoint()) {
            OpNode node = OpNode.record(op, checked, inputs, r);
            r.setGradFn(node);
            node.outputReady();
        }
        OpObserver obs = OBSERVER.get();
        if (obs != null) obs.onOp(op, traced == null ? checked : checked(def, traced), inputs, r);
        return r;
    }

    /**
     * The in-place form of {@link #apply}: writes op's result straight into {@code dest}'s
     * storage when nothing needs to see it happen separately: no autograd record (grad mode off,
     * or no input requires grad), no observer (tracer), every tensor on the CPU, and a kernel
     * that can write there (see {@link CpuKernels#runInto}). Returns false, having done nothing,
     * otherwise; the caller then computes out of place and copies. The caller checks in-place
     * rules and bumps the version.
     */
    static boolean applyInto(Op op, Attrs attrs, Tensor dest, Tensor... inputs) {
        if (OBSERVER.get() != null || !dest.device().isCpu()) return false;
        OpDef def = op.def();
        Attrs checked = checked(def, attrs);
        boolean grad = GradMode.isEnabled();
        TensorType[] types = new TensorType[inputs.length];
        Strided[] data = new Strided[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            Tensor t = inputs[i];
            if (t == null || (grad && t.requiresGrad()) || !t.device().isCpu()) return false;
            types[i] = t.type();
            data[i] = t.data();
        }
        return CpuKernels.runInto(op, data, checked, def.inferType(types, checked), dest.data());
    }
}
