package dev.kiln.backend.cuda;

/**
 * Raw device memory: what the caching allocator sits on. {@link JCudaMemory} is the real one
 * (cuMemAlloc/cuMemFree); tests use a fake so the allocator's bookkeeping is checked on
 * machines without a GPU.
 */
public interface DeviceMemory {
    /** Allocates bytes and returns the device address; throws {@link CudaOutOfMemoryException} when full. */
    long allocate(long bytes);

    void free(long address);
}
