package dev.kiln.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The allocator's bookkeeping, on a fake device memory with a capacity. */
class CachingAllocatorTest {
    /** Hands out increasing addresses; fails with out-of-memory past its capacity. */
    static final class FakeMemory implements DeviceMemory {
        final long capacity;
        long used, next = 0x7f0000000000L;
        final Map<Long, Long> blocks = new HashMap<>();
        int allocs, frees;

        FakeMemory(long capacity) { this.capacity = capacity; }

        @Override
        public long allocate(long bytes) {
            if (used + bytes > capacity) throw new CudaOutOfMemoryException("cuMemAlloc: CUDA_ERROR_OUT_OF_MEMORY");
            long a = next;
            next += bytes;
            blocks.put(a, bytes);
            used += bytes;
            allocs++;
            return a;
        }

        @Override
        public void free(long address) {
            Long b = blocks.remove(address);
            if (b == null) throw new AssertionError("fake device: freeing unknown address " + address);
            used -= b;
            frees++;
        }
    }

    @Test
    void bucketsRoundSmallTo512AndLargeTo2MiB() {
        assertEquals(512, CachingAllocator.bucketSize(0));
        assertEquals(512, CachingAllocator.bucketSize(1));
        assertEquals(512, CachingAllocator.bucketSize(512));
        assertEquals(1024, CachingAllocator.bucketSize(513));
        assertEquals(1L << 20, CachingAllocator.bucketSize((1L << 20) - 1));
        assertEquals(2L << 20, CachingAllocator.bucketSize(1L << 20));
        assertEquals(4L << 20, CachingAllocator.bucketSize((2L << 20) + 1));
        assertThrows(IllegalArgumentException.class, () -> CachingAllocator.bucketSize(-1));
    }

    @Test
    void freedBlocksAreReusedForTheSameBucketOnly() {
        FakeMemory mem = new FakeMemory(1L << 30);
        CachingAllocator a = new CachingAllocator(mem);
        DeviceBlock b1 = a.allocate(1000);
        assertEquals(1024, b1.size());
        assertEquals(1000, b1.requested());
        a.free(b1);
        DeviceBlock b2 = a.allocate(600); // same 1024 bucket: reused
        assertEquals(b1.address(), b2.address());
        DeviceBlock b3 = a.allocate(100); // 512 bucket: a new block, not the cached 1024 one
        assertNotEquals(b1.address(), b3.address());
        AllocatorStats s = a.stats();
        assertEquals(3, s.requests());
        assertEquals(1, s.cacheHits());
        assertEquals(2, s.deviceAllocations());
        assertEquals(1024 + 512, s.bytesInUse());
        assertEquals(0, s.bytesCached());
        assertEquals(2, mem.allocs);
    }

    @Test
    void aSteadyTrainingLoopStopsCallingTheDevice() {
        FakeMemory mem = new FakeMemory(1L << 30);
        CachingAllocator a = new CachingAllocator(mem);
        long[] sizes = {4 * 784 * 64, 4 * 6 * 28 * 28 * 64, 4 * 120, 4 * 10 * 64, 3 << 20};
        for (int step = 0; step < 5; step++) {
            DeviceBlock[] live = new DeviceBlock[sizes.length];
            for (int i = 0; i < sizes.length; i++) live[i] = a.allocate(sizes[i]);
            for (DeviceBlock b : live) a.free(b);
        }
        AllocatorStats s = a.stats();
        assertEquals(sizes.length, s.deviceAllocations(), "only the first step allocates on the device");
        assertEquals(4L * sizes.length, s.cacheHits());
        assertEquals(0, s.bytesInUse());
        assertEquals(mem.used, s.bytesCached(), "cached bytes are exactly what the device still holds");
        assertTrue(s.peakBytesInUse() >= 3 << 20);
    }

    @Test
    void outOfMemoryReleasesTheCacheAndRetriesOnce() {
        FakeMemory mem = new FakeMemory(8 << 20);
        CachingAllocator a = new CachingAllocator(mem);
        DeviceBlock big = a.allocate(6 << 20);
        a.free(big); // cached: the device is still 6 MiB full
        DeviceBlock other = a.allocate(4 << 20); // does not fit next to the cached block
        assertEquals(1, mem.frees, "the cached block was given back to make room");
        AllocatorStats s = a.stats();
        assertEquals(0, s.bytesCached());
        assertEquals(4 << 20, s.bytesInUse());
        assertEquals(1, s.deviceFrees());
        CudaOutOfMemoryException e = assertThrows(CudaOutOfMemoryException.class, () -> a.allocate(6 << 20));
        assertTrue(e.getMessage().startsWith("CUDA out of memory: cannot allocate 6291456 bytes with 4194304 bytes in use"), e.getMessage());
        a.free(other);
    }

    /** Blocks of collected tensors not yet returned, freed when the allocator reclaims, as DeviceMirrors.reclaim does. */
    static final class Garbage implements Runnable {
        final CachingAllocator allocator;
        final List<DeviceBlock> blocks = new ArrayList<>();
        int calls;

        Garbage(CachingAllocator allocator) {
            this.allocator = allocator;
            allocator.onOutOfMemory(this);
        }

        @Override
        public void run() {
            calls++;
            for (DeviceBlock b : blocks) allocator.free(b);
            blocks.clear();
        }
    }

    @Test
    void whenTheCacheIsEmptyTheReclaimerFreesGarbageBeforeTheLastRetry() {
        FakeMemory mem = new FakeMemory(8 << 20);
        CachingAllocator a = new CachingAllocator(mem);
        Garbage garbage = new Garbage(a);
        garbage.blocks.add(a.allocate(6 << 20)); // a collected tensor's block, not yet returned
        DeviceBlock b = a.allocate(4 << 20);
        assertEquals(1, garbage.calls);
        assertEquals(4 << 20, a.stats().bytesInUse());
        a.free(b);
        // nothing left to reclaim: the error still comes, after one more reclaimer call
        DeviceBlock held = a.allocate(6 << 20);
        assertThrows(CudaOutOfMemoryException.class, () -> a.allocate(4 << 20));
        assertEquals(2, garbage.calls);
        a.free(held);
    }

    @Test
    void pastTheThresholdACacheMissReclaimsGarbageBeforeTakingDeviceMemory() {
        FakeMemory mem = new FakeMemory(1L << 30);
        CachingAllocator a = new CachingAllocator(mem, 2 << 20);
        Garbage garbage = new Garbage(a);
        for (int i = 0; i < 3; i++) garbage.blocks.add(a.allocate(512 << 10)); // 1.5 MiB of dead tensors, below the threshold
        assertEquals(0, a.reclaims());
        DeviceBlock live = a.allocate(600 << 10); // would reserve 2.1 MiB: reclaim first
        assertEquals(1, a.reclaims());
        assertEquals(600 << 10, a.stats().bytesInUse());
        DeviceBlock again = a.allocate(512 << 10); // served from the reclaimed blocks, no device call
        assertEquals(4, mem.allocs, "three 512 KiB blocks and one 600 KiB block are all the device gave");
        // the reclaimed blocks sit in the cache; a miss of another size does not reclaim again
        DeviceBlock other = a.allocate(100 << 10);
        assertEquals(1, a.reclaims(), "cached blocks are not garbage");
        a.free(other);
        a.free(again);
        a.free(live);
    }

    @Test
    void aStaleBlockWhoseAddressWasReusedIsRefused() {
        CachingAllocator a = new CachingAllocator(new FakeMemory(1 << 20));
        DeviceBlock first = a.allocate(100);
        a.free(first);
        DeviceBlock second = a.allocate(100); // the same address, from the cache
        assertEquals(first.address(), second.address());
        assertThrows(IllegalStateException.class, () -> a.free(first));
        assertEquals(512, a.stats().bytesInUse(), "the new owner's block stays allocated");
        a.free(second);
    }

    @Test
    void doubleFreeIsAnError() {
        CachingAllocator a = new CachingAllocator(new FakeMemory(1 << 20));
        DeviceBlock b = a.allocate(10);
        a.free(b);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.free(b));
        assertTrue(e.getMessage().contains("double free"), e.getMessage());
    }

    @Test
    void emptyCacheFreesOnlyUnusedBlocks() {
        FakeMemory mem = new FakeMemory(1L << 30);
        CachingAllocator a = new CachingAllocator(mem);
        DeviceBlock kept = a.allocate(5000);
        a.free(a.allocate(70_000));
        a.free(a.allocate(3 << 20));
        a.emptyCache();
        assertEquals(1, mem.blocks.size());
        assertTrue(mem.blocks.containsKey(kept.address()));
        assertEquals(0, a.stats().bytesCached());
        assertEquals(CachingAllocator.bucketSize(5000), a.stats().bytesInUse());
    }
}
