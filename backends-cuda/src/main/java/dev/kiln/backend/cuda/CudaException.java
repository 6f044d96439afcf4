package dev.kiln.backend.cuda;

/** A CUDA driver or NVRTC call failed; the message names the call and the CUDA error. */
public class CudaException extends RuntimeException {
    public CudaException(String message) { super(message); }

    public CudaException(String message, Throwable cause) { super(message, cause); }
}
