package dev.kiln.backend.cuda;

import jcuda.driver.CUresult;
import jcuda.nvrtc.nvrtcResult;

/** Turns CUDA status codes into exceptions that name the call and the error. */
final class CudaErrors {
    private CudaErrors() {}

    static void check(int result, String call) {
        if (result == CUresult.CUDA_SUCCESS) return;
        if (result == CUresult.CUDA_ERROR_OUT_OF_MEMORY) throw new CudaOutOfMemoryException(call + ": " + CUresult.stringFor(result));
        throw new CudaException(call + " failed: " + CUresult.stringFor(result));
    }

    static void checkNvrtc(int result, String call) {
        if (result != nvrtcResult.NVRTC_SUCCESS) throw new CudaException(call + " failed: " + nvrtcResult.stringFor(result));
    }
}
