package dev.kiln.backend.cuda;

import dev.kiln.backend.Storage;
import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The device copies of storages, keyed by storage identity, each valid for one storage version.
 *
 * <p>A kernel's result lives only here at first: its storage has no host array
 * ({@link Storage#onDevice}) and asks this class for its contents ({@link Storage.Residence}) the first time the
 * host reads it. A host storage used on the device is uploaded once and stays valid until an
 * in-place write on the host bumps its version; a write on the device ({@link #overwritten})
 * takes a new block and makes the host array stale instead.
 *
 * <p>Blocks of storages that were garbage collected return to the caching allocator when the
 * next op runs here (a reference queue drained by the thread that owns the CUDA work, not a
 * cleaner thread). Java collects garbage when the host heap fills, and device results use
 * almost no heap, so once the allocator holds more than its threshold (or the device is full)
 * it calls {@link #reclaim}, which asks for a collection and waits for the blocks it frees.
 *
 * <p>Thread-safe: lookups, uploads and block changes of live storages hold this object's lock;
 * freeing the blocks of dead storages does not (no live code can reach them), so the allocator
 * may call {@link #reclaim} while another thread holds this lock and waits for the allocator.
 */
final class DeviceMirrors implements Storage.Residence {
    /** One storage's device copy; phantom-reachable from the storage so it is enqueued when the storage dies. */
    private static final class Mirror extends PhantomReference<Storage> {
        volatile DeviceBlock block;
        volatile int version;

        Mirror(Storage s, ReferenceQueue<Storage> q) { super(s, q); }
    }

    private final CudaBackend backend;
    /** Guarded by this (every method that reads or changes it holds the lock). */
    private final Map<Storage, Mirror> mirrors = new WeakHashMap<>();
    /** Keeps each Mirror (a phantom reference) reachable until its storage's death is processed. */
    private final Set<Mirror> pending = ConcurrentHashMap.newKeySet();
    private final ReferenceQueue<Storage> dead = new ReferenceQueue<>();

    DeviceMirrors(CudaBackend backend) { this.backend = backend; }

    /** A one-element value by dtype and bits. */
    private record Constant(dev.kiln.backend.DType dtype, long bits) {}

    private static final int MAX_CONSTANTS = 4096;

    /**
     * Device copies of one-element host values (the Java scalars of {@code x.mul(2.0)}, a
     * learning rate), shared by value: a fresh 0-d tensor per op would otherwise cost an upload
     * per op. Read-only on the device; the least recently used is freed past MAX_CONSTANTS.
     */
    private final Map<Constant, DeviceBlock> constants = new java.util.LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Constant, DeviceBlock> eldest) {
            if (size() <= MAX_CONSTANTS) return false;
            backend.free(eldest.getValue());
            return true;
        }
    };

    /** The device address of s's data, uploading it when absent or stale. */
    long address(Storage s) {
        freeDead();
        if (s.length() == 1 && s.isOnHost()) return constant(s);
        synchronized (this) {
            Mirror m = mirrors.get(s);
            if (m != null && m.version == s.version() && m.block != null) return m.block.address();
        }
        // the host copy first, outside this lock: making it may read the device copy (copyToHost)
        s.array();
        synchronized (this) {
            Mirror m = mirrors.get(s); // again: another thread may have uploaded it meanwhile
            if (m != null && m.version == s.version() && m.block != null) return m.block.address();
            DeviceBlock fresh = backend.upload(s);
            adopt(s, fresh, m);
            return fresh.address();
        }
    }

    private long constant(Storage s) {
        long bits = switch (s.dtype()) {
            case FLOAT32 -> Float.floatToRawIntBits(s.f32()[0]);
            case FLOAT64 -> Double.doubleToRawLongBits(s.f64()[0]);
            case INT64 -> s.i64()[0];
            case BOOL -> s.bool()[0] ? 1 : 0;
        };
        synchronized (constants) {
            return constants.computeIfAbsent(new Constant(s.dtype(), bits), k -> backend.upload(s)).address();
        }
    }

    /** Records that block holds s's contents: a kernel's result, s made by {@code Storage.onDevice(.., this)}. */
    synchronized void holds(Storage s, DeviceBlock block) { adopt(s, block, mirrors.get(s)); }

    /**
     * The device wrote s's new contents into block (the old block, if any, is freed): bumps s's
     * version, so saved tensors see the write, and makes s's host array stale.
     */
    synchronized void overwritten(Storage s, DeviceBlock block) {
        s.bumpVersion();
        adopt(s, block, mirrors.get(s));
        s.hostIsStale(this);
    }

    /**
     * Makes {@code from}'s current device block {@code to}'s new contents, as {@link #overwritten}
     * does with a fresh block: for an in-place write whose value was computed just for it. Returns
     * false, changing nothing, unless from's device copy is current and exactly to's size. from
     * keeps no device copy afterwards (reading it again fails loudly, not with stale data).
     */
    synchronized boolean handOver(Storage from, Storage to) {
        Mirror m = mirrors.get(from);
        if (from == to || from.length() != to.length() || from.dtype() != to.dtype() || m == null || m.block == null || m.version != from.version()) {
            return false;
        }
        DeviceBlock block = m.block;
        m.block = null;
        overwritten(to, block);
        return true;
    }

    @Override
    public synchronized void copyToHost(Storage s, Object hostArray) {
        Mirror m = mirrors.get(s);
        DeviceBlock b = m == null ? null : m.block;
        if (b == null) throw new IllegalStateException("the device copy of a " + s.dtype() + "[" + s.length() + "] storage is missing");
        backend.download(b, s.dtype(), hostArray, s.length());
    }

    private void adopt(Storage s, DeviceBlock block, Mirror existing) {
        Mirror m = existing;
        if (m == null) {
            m = new Mirror(s, dead);
            pending.add(m);
            mirrors.put(s, m);
        } else if (m.block != null && m.block != block) {
            backend.free(m.block);
        }
        m.block = block;
        m.version = s.version();
    }

    /** Returns the blocks of collected storages to the allocator. */
    void freeDead() {
        for (Reference<? extends Storage> r; (r = dead.poll()) != null; ) release((Mirror) r);
    }

    /**
     * Called by the allocator when the device is full or its reclaim threshold is reached:
     * collects garbage, then frees the blocks of every storage found dead, waiting briefly for
     * the collector to report them.
     */
    void reclaim() {
        System.gc();
        try {
            // the collector hands dead references over shortly after System.gc() returns: wait for
            // the first one briefly, then take the rest as they come
            for (Reference<? extends Storage> r = dead.remove(100); r != null; r = dead.remove(2)) release((Mirror) r);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void release(Mirror m) {
        pending.remove(m);
        DeviceBlock b = m.block;
        m.block = null;
        if (b != null) backend.free(b);
    }
}
