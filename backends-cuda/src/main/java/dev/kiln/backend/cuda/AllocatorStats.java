package dev.kiln.backend.cuda;

/**
 * A snapshot of {@link CachingAllocator} counters. {@code deviceAllocations} counts real
 * cuMemAlloc calls; {@code cacheHits} counts requests served from a free list. Bytes are
 * bucket sizes, not requested sizes.
 */
public record AllocatorStats(long requests, long cacheHits, long deviceAllocations, long deviceFrees, long bytesInUse,
                             long bytesCached, long peakBytesInUse) {}
