package dev.kiln.backend.cuda;

import jcuda.Pointer;

/**
 * Kernel parameters for cuLaunchKernel: each argument becomes a pointer to its bytes.
 * Boxed Integer/Long/Float/Double are scalars, {@link Ptr} is a device address, and int[] is a
 * by-value struct of ints (KShape, KStrides, KConv, KPool in the .cu sources).
 */
final class KernelArgs {
    private KernelArgs() {}

    /** A device address argument (a plain Long would be passed as a 64-bit integer). */
    record Ptr(long address) {}

    static Pointer pack(Object... args) {
        Pointer[] ps = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) ps[i] = one(args[i], i);
        return Pointer.to(ps);
    }

    private static Pointer one(Object a, int i) {
        if (a instanceof Integer v) return Pointer.to(new int[] {v});
        if (a instanceof Long v) return Pointer.to(new long[] {v});
        if (a instanceof Float v) return Pointer.to(new float[] {v});
        if (a instanceof Double v) return Pointer.to(new double[] {v});
        if (a instanceof Ptr p) return Pointer.to(new long[] {p.address()});
        if (a instanceof int[] s) return Pointer.to(s);
        throw new IllegalArgumentException("kernel argument " + i + " has unsupported type " + (a == null ? "null" : a.getClass().getName()));
    }
}
