package dev.kiln.backend.cuda;

/** Device memory is exhausted even after the allocator released its cached blocks. */
public final class CudaOutOfMemoryException extends CudaException {
    public CudaOutOfMemoryException(String message) { super(message); }
}
