package dev.kiln.backend.cuda;

import dev.kiln.backend.Storage;
import java.lang.ref.Cleaner;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Device copies of host storages, keyed by storage identity and valid for one storage
 * version. A weight read by every step is uploaded once; an in-place update bumps the
 * storage's version and the next use uploads it again. When a storage is garbage collected
 * its device block goes back to the caching allocator (a Cleaner, not finalization).
 */
final class DeviceMirrors {
    private static final Cleaner CLEANER = Cleaner.create();

    /** Mutable so the cleaning action frees whatever block the storage holds last. */
    private static final class Mirror {
        volatile DeviceBlock block;
        volatile int version;
    }

    private final CudaBackend backend;
    private final Map<Storage, Mirror> mirrors = Collections.synchronizedMap(new WeakHashMap<>());

    DeviceMirrors(CudaBackend backend) { this.backend = backend; }

    /** The device address of s's data, uploading it when absent or stale. */
    long address(Storage s) {
        Mirror m = mirrors.get(s);
        if (m != null && m.version == s.version() && m.block != null) return m.block.address();
        DeviceBlock fresh = backend.upload(s);
        adopt(s, fresh, m);
        return fresh.address();
    }

    /** Records that block already holds s's current data (a kernel result written through). */
    void adopt(Storage s, DeviceBlock block) { adopt(s, block, mirrors.get(s)); }

    private void adopt(Storage s, DeviceBlock block, Mirror existing) {
        Mirror m = existing;
        if (m == null) {
            Mirror created = new Mirror();
            m = created;
            mirrors.put(s, created);
            CLEANER.register(s, () -> {
                DeviceBlock b = created.block;
                if (b != null) backend.free(b);
            });
        } else if (m.block != null) {
            backend.free(m.block);
        }
        m.block = block;
        m.version = s.version();
    }

    int size() { return mirrors.size(); }
}
