package dev.kiln.backend.cuda;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Caches device blocks in size-bucketed free lists, because cuMemAlloc/cuMemFree synchronize
 * the device and cost far more than a kernel launch: an eager training step allocates the
 * same sizes every iteration, so after the first step every request is a cache hit.
 *
 * <p>Sizes round up to 512 bytes below 1 MiB and to 2 MiB above (PyTorch's choice): few
 * distinct buckets, bounded waste. A request is served only from its exact bucket, so a small
 * tensor never pins a large block. When the device is full, every cached block is released
 * and the request retried; if that fails too, the reclaimer (set by the executor) returns the
 * blocks of tensors the JVM has collected, and the request is retried once more before
 * {@link CudaOutOfMemoryException} is thrown.
 *
 * <p>Thread-safe (one lock): eager may run on several threads.
 */
public final class CachingAllocator {
    static final long SMALL_ROUND = 512;
    static final long LARGE_THRESHOLD = 1L << 20;
    static final long LARGE_ROUND = 2L << 20;

    private final DeviceMemory memory;
    private final TreeMap<Long, ArrayDeque<Long>> free = new TreeMap<>();
    /** Blocks handed out, by address: freeing checks identity, so a stale block whose address was reused is caught. */
    private final Map<Long, DeviceBlock> live = new HashMap<>();
    private long requests, cacheHits, deviceAllocations, deviceFrees, bytesInUse, bytesCached, peak;

    /** Frees blocks whose tensors are garbage (DeviceMirrors.reclaim); run past the threshold below and when the device is full. */
    private volatile Runnable reclaimer = () -> {};

    /**
     * Bytes in use (by live tensors and by dead ones not yet collected) above which a cache miss
     * first runs the reclaimer. Cached blocks do not count: a reclaim returns garbage to the
     * cache, so counting them would make every later miss reclaim again.
     * Java frees a dead tensor's block only after a garbage collection, and device results put
     * almost nothing on the heap, so without this a long eager loop would take fresh device
     * memory for every op (each cuMemAlloc a synchronizing driver call) until the device is full.
     * After each reclaim the limit becomes twice what is still in use, so a model whose live
     * tensors really need more memory is not collected over and over.
     */
    private final long initialReclaimBytes;
    private long reclaimBytes;
    private long reclaims;

    public CachingAllocator(DeviceMemory memory) { this(memory, Long.getLong("kiln.cuda.reclaimBytes", 4L << 30)); }

    /** With the in-use threshold for reclaiming garbage before taking more device memory (default 4 GiB). */
    public CachingAllocator(DeviceMemory memory, long reclaimBytes) {
        this.memory = memory;
        this.initialReclaimBytes = reclaimBytes;
        this.reclaimBytes = reclaimBytes;
    }

    /** Sets the reclaimer: what frees the blocks of collected tensors. */
    public void onOutOfMemory(Runnable reclaimer) { this.reclaimer = java.util.Objects.requireNonNull(reclaimer); }

    /** The bucket a request of bytes is served from. */
    public static long bucketSize(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("negative allocation size " + bytes);
        long b = Math.max(bytes, 1);
        long round = b < LARGE_THRESHOLD ? SMALL_ROUND : LARGE_ROUND;
        return Math.multiplyExact((b + round - 1) / round, round);
    }

    public synchronized DeviceBlock allocate(long bytes) {
        long size = bucketSize(bytes);
        requests++;
        Long cached = takeCached(size);
        if (cached == null && bytesInUse + size > reclaimBytes) {
            reclaim();
            cached = takeCached(size);
        }
        long address = cached != null ? cached : allocateFromDevice(size);
        DeviceBlock block = new DeviceBlock(address, size, bytes);
        live.put(address, block);
        bytesInUse += size;
        peak = Math.max(peak, bytesInUse);
        return block;
    }

    /** A cached block of exactly this bucket, or null. */
    private Long takeCached(long size) {
        ArrayDeque<Long> list = free.get(size);
        if (list == null || list.isEmpty()) return null;
        long address = list.pop();
        if (list.isEmpty()) free.remove(size);
        bytesCached -= size;
        cacheHits++;
        return address;
    }

    /** Returns garbage's blocks to the cache and sets the next threshold from what is still in use. */
    private void reclaim() {
        reclaimer.run(); // frees through free(), re-entering this lock on the same thread
        reclaims++;
        reclaimBytes = Math.max(initialReclaimBytes, 2 * bytesInUse);
    }

    /** How many times the reclaimer ran (past the threshold, or with the device full). */
    public synchronized long reclaims() { return reclaims; }

    /** From the device; when it is full, first releases the cache, then also reclaims garbage, then gives up. */
    private long allocateFromDevice(long size) {
        for (int attempt = 1; ; attempt++) {
            try {
                return deviceAllocate(size);
            } catch (CudaOutOfMemoryException full) {
                if (attempt == 3) throw oom(size, full);
                if (attempt == 2) reclaim();
                emptyCacheLocked();
            }
        }
    }

    private long deviceAllocate(long size) {
        long a = memory.allocate(size);
        deviceAllocations++;
        return a;
    }

    private CudaOutOfMemoryException oom(long size, CudaOutOfMemoryException cause) {
        return new CudaOutOfMemoryException("CUDA out of memory: cannot allocate " + size + " bytes with " + bytesInUse
                + " bytes in use by tensors (" + cause.getMessage() + ")");
    }

    /** Returns a block to its free list; the device memory stays reserved for reuse. */
    public synchronized void free(DeviceBlock block) {
        DeviceBlock held = live.get(block.address());
        if (held != block) throw new IllegalStateException("freeing device block 0x" + Long.toHexString(block.address()) + " that is not allocated (double free?)");
        live.remove(block.address());
        long size = block.size();
        bytesInUse -= size;
        bytesCached += size;
        free.computeIfAbsent(size, s -> new ArrayDeque<>()).push(block.address());
    }

    /** Gives every cached (unused) block back to the device, as torch.cuda.empty_cache(). */
    public synchronized void emptyCache() { emptyCacheLocked(); }

    private void emptyCacheLocked() {
        for (ArrayDeque<Long> list : free.values()) {
            for (long a : list) {
                memory.free(a);
                deviceFrees++;
            }
        }
        free.clear();
        bytesCached = 0;
    }

    public synchronized AllocatorStats stats() {
        return new AllocatorStats(requests, cacheHits, deviceAllocations, deviceFrees, bytesInUse, bytesCached, peak);
    }
}
