package dev.kiln.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;

/** Device memory through the driver API; the caller has made the device's context current. */
final class JCudaMemory implements DeviceMemory {
    private final CudaContext context;

    JCudaMemory(CudaContext context) { this.context = context; }

    @Override
    public long allocate(long bytes) {
        context.makeCurrent();
        DevicePointers.Allocated p = new DevicePointers.Allocated();
        CudaErrors.check(cuMemAlloc(p, bytes), "cuMemAlloc(" + bytes + " bytes)");
        return p.address();
    }

    @Override
    public void free(long address) {
        context.makeCurrent();
        CudaErrors.check(cuMemFree(DevicePointers.at(address)), "cuMemFree");
    }
}
