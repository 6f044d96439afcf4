package dev.kiln.backend.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * Device addresses as plain longs. JCuda hides a pointer's address (getNativePointer is
 * protected); the backend keeps longs so that the allocator, offsets into views and kernel
 * arguments are simple arithmetic, and converts at the JCuda boundary only.
 */
final class DevicePointers {
    private DevicePointers() {}

    /** A CUdeviceptr that can report the address cuMemAlloc wrote into it. */
    static final class Allocated extends CUdeviceptr {
        long address() { return getNativePointer() + getByteOffset(); }
    }

    /** A CUdeviceptr for an address (JCuda adds the byte offset to a null base). */
    static CUdeviceptr at(long address) { return new CUdeviceptr().withByteOffset(address); }
}
