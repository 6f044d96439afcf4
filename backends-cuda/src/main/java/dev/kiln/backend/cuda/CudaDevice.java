package dev.kiln.backend.cuda;

import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuInit;

import dev.kiln.backend.device.Availability;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * Device discovery, done once per JVM. Loading JCuda's native library needs the NVIDIA
 * driver (libcuda.so.1); without it the load throws UnsatisfiedLinkError, and every later use
 * of the class throws NoClassDefFoundError. Both, and any CUDA error from cuInit, become an
 * unavailable {@link Availability} with the reason: discovery never throws and never crashes.
 */
public final class CudaDevice {
    private CudaDevice() {}

    /** The discovery result: availability and, when available, the devices. */
    public record Discovery(Availability availability, List<CudaDeviceInfo> devices) {}

    private static volatile Discovery discovery;

    public static Discovery discover() {
        Discovery d = discovery;
        if (d == null) {
            synchronized (CudaDevice.class) {
                if (discovery == null) discovery = probe();
                d = discovery;
            }
        }
        return d;
    }

    public static Availability availability() { return discover().availability(); }

    public static CudaDeviceInfo info(int index) {
        Discovery d = discover();
        if (!d.availability().isAvailable()) throw new IllegalStateException("CUDA is not available: " + d.availability().reason());
        if (index < 0 || index >= d.devices().size()) {
            throw new IllegalArgumentException("cuda:" + index + " does not exist: " + d.devices().size() + " CUDA device(s) found");
        }
        return d.devices().get(index);
    }

    private static Discovery probe() {
        try {
            JCudaDriver.setExceptionsEnabled(false); // status codes, checked here with their names
            int r = cuInit(0);
            if (r != CUresult.CUDA_SUCCESS) return none(initFailure(r));
            int[] count = {0};
            r = cuDeviceGetCount(count);
            if (r != CUresult.CUDA_SUCCESS) return none("cuDeviceGetCount failed: " + CUresult.stringFor(r));
            if (count[0] == 0) return none("the NVIDIA driver reports no CUDA device");
            List<CudaDeviceInfo> devices = new ArrayList<>();
            for (int i = 0; i < count[0]; i++) devices.add(describe(i));
            return new Discovery(Availability.available(count[0]), List.copyOf(devices));
        } catch (LinkageError e) {
            return none(linkFailure(e));
        } catch (RuntimeException e) {
            return none("CUDA discovery failed: " + e);
        }
    }

    private static Discovery none(String reason) { return new Discovery(Availability.unavailable(reason), List.of()); }

    static String initFailure(int result) {
        if (result == CUresult.CUDA_ERROR_NO_DEVICE) return "no CUDA-capable device is detected (cuInit: CUDA_ERROR_NO_DEVICE)";
        if (result == CUresult.CUDA_ERROR_STUB_LIBRARY) {
            return "libcuda.so.1 is the CUDA toolkit's stub, not an NVIDIA driver (cuInit: CUDA_ERROR_STUB_LIBRARY)";
        }
        if (result == CUresult.CUDA_ERROR_SYSTEM_DRIVER_MISMATCH) {
            return "the NVIDIA kernel driver and libcuda.so.1 versions differ (cuInit: CUDA_ERROR_SYSTEM_DRIVER_MISMATCH)";
        }
        return "cuInit failed: " + CUresult.stringFor(result);
    }

    /** Words for a failed native load; the driver library's absence is the common case. */
    static String linkFailure(Throwable e) {
        String msg = String.valueOf(e.getMessage());
        if (msg.contains("libcuda")) return "no NVIDIA driver found (libcuda.so.1 could not be loaded)";
        if (e instanceof NoClassDefFoundError) return "the JCuda driver binding could not be initialized (" + msg + ")";
        return "the JCuda native library could not be loaded: " + msg;
    }

    private static CudaDeviceInfo describe(int i) {
        CUdevice dev = new CUdevice();
        CudaErrors.check(cuDeviceGet(dev, i), "cuDeviceGet(" + i + ")");
        byte[] name = new byte[256];
        CudaErrors.check(cuDeviceGetName(name, name.length, dev), "cuDeviceGetName");
        int len = 0;
        while (len < name.length && name[len] != 0) len++;
        int[] major = {0}, minor = {0};
        CudaErrors.check(cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev), "cuDeviceGetAttribute");
        CudaErrors.check(cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev), "cuDeviceGetAttribute");
        long[] mem = {0};
        CudaErrors.check(cuDeviceTotalMem(mem, dev), "cuDeviceTotalMem");
        return new CudaDeviceInfo(i, new String(name, 0, len, StandardCharsets.US_ASCII), major[0], minor[0], mem[0]);
    }
}
