package dev.kiln.backend.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jcuda.Pointer;

/**
 * Kernel parameters for cuLaunchKernel: each argument becomes a pointer to its bytes.
 * Boxed Integer/Long/Float/Double are scalars, {@link Ptr} is a device address, and int[] is a
 * by-value struct of ints (KShape, KStrides, KConv, KPool in the .cu sources).
 *
 * <p>The bytes of all arguments go into one direct buffer per thread, each argument a pointer
 * at its offset: JCuda then passes native addresses instead of pinning or copying one Java
 * array per argument, which the launch profiles showed as most of a launch's host time. The
 * driver copies the parameters during cuLaunchKernel, so the buffer is reused by the next launch.
 */
final class KernelArgs {
    private KernelArgs() {}

    /** A device address argument (a plain Long would be passed as a 64-bit integer). */
    record Ptr(long address) {}

    private static final int CAPACITY = 4096;

    /** One buffer per launching thread, with a pointer to its start (offsets are added per argument). */
    private record Scratch(ByteBuffer bytes, Pointer base) {}

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(() -> {
        ByteBuffer b = ByteBuffer.allocateDirect(CAPACITY).order(ByteOrder.nativeOrder());
        return new Scratch(b, Pointer.to(b));
    });

    static Pointer pack(Object... args) {
        Scratch s = SCRATCH.get();
        ByteBuffer b = s.bytes();
        b.clear();
        Pointer[] ps = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            int at = (b.position() + 7) & ~7; // 8-byte aligned, enough for every parameter type
            if (at + bytes(a, i) > CAPACITY) throw new IllegalArgumentException("kernel arguments exceed " + CAPACITY + " bytes");
            b.position(at);
            if (a instanceof Integer v) b.putInt(v);
            else if (a instanceof Long v) b.putLong(v);
            else if (a instanceof Float v) b.putFloat(v);
            else if (a instanceof Double v) b.putDouble(v);
            else if (a instanceof Ptr p) b.putLong(p.address());
            else for (int x : (int[]) a) b.putInt(x);
            ps[i] = s.base().withByteOffset(at);
        }
        return Pointer.to(ps);
    }

    private static int bytes(Object a, int i) {
        if (a instanceof Integer || a instanceof Float) return 4;
        if (a instanceof Long || a instanceof Double || a instanceof Ptr) return 8;
        if (a instanceof int[] s) return 4 * s.length;
        throw new IllegalArgumentException("kernel argument " + i + " has unsupported type " + (a == null ? "null" : a.getClass().getName()));
    }
}
