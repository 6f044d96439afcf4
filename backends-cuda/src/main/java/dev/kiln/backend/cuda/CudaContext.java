package dev.kiln.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;

/**
 * The device's primary context (the one the CUDA runtime and PyTorch share). A context is
 * current per thread, and eager ops may come from any thread, so every entry point makes it
 * current first; cuCtxSetCurrent of the already-current context is cheap.
 */
final class CudaContext {
    private final CUcontext context = new CUcontext();

    CudaContext(int index) {
        CUdevice dev = new CUdevice();
        CudaErrors.check(cuDeviceGet(dev, index), "cuDeviceGet(" + index + ")");
        CudaErrors.check(cuDevicePrimaryCtxRetain(context, dev), "cuDevicePrimaryCtxRetain(" + index + ")");
        makeCurrent();
    }

    void makeCurrent() { CudaErrors.check(cuCtxSetCurrent(context), "cuCtxSetCurrent"); }
}
