package dev.kiln.backend.cuda;

/**
 * A block handed out by {@link CachingAllocator}: the device address, the bucket size really
 * reserved, and the size asked for (kernels must only touch the first {@code requested} bytes).
 */
public record DeviceBlock(long address, long size, long requested) {}
