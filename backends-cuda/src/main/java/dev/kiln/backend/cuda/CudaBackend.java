package dev.kiln.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoD;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;

import dev.kiln.backend.Storage;
import dev.kiln.backend.device.Availability;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;

/**
 * One CUDA device: its context, a caching allocator over its memory, host/device copies,
 * and compiled kernels. Sources are compiled with NVRTC on first use and cached by their text
 * (so a generated fused kernel compiles once per distinct chain); functions are cached by
 * (source, name).
 */
public final class CudaBackend {
    private static final Map<Integer, CudaBackend> DEVICES = new ConcurrentHashMap<>();

    private final CudaDeviceInfo info;
    private final CudaContext context;
    private final CachingAllocator allocator;
    private final Map<String, CUmodule> modules = new ConcurrentHashMap<>();
    private record FunctionKey(String source, String kernel) {}

    private final Map<FunctionKey, CUfunction> functions = new ConcurrentHashMap<>();
    private final Map<String, Map<String, CUfunction>> resourceKernels = new ConcurrentHashMap<>();

    private CudaBackend(CudaDeviceInfo info) {
        this.info = info;
        this.context = new CudaContext(info.index());
        this.allocator = new CachingAllocator(new JCudaMemory(context));
    }

    /** Whether at least one CUDA device can be used; never throws. */
    public static boolean isAvailable() { return CudaDevice.availability().isAvailable(); }

    /** Why CUDA cannot be used (empty when it can): the text GPU tests skip with. */
    public static String unavailableReason() {
        Availability a = CudaDevice.availability();
        return a.isAvailable() ? "" : "CUDA is not available: " + a.reason();
    }

    /** The backend of device index, created on first use. */
    public static CudaBackend device(int index) {
        CudaDeviceInfo info = CudaDevice.info(index);
        return DEVICES.computeIfAbsent(index, i -> new CudaBackend(info));
    }

    public CudaDeviceInfo info() { return info; }

    public CachingAllocator allocator() { return allocator; }

    public DeviceBlock allocate(long bytes) { return allocator.allocate(bytes); }

    public void free(DeviceBlock b) { allocator.free(b); }

    // ---- copies ----

    /** Copies a whole host storage to a new device block (bool as one byte per element). */
    public DeviceBlock upload(Storage s) {
        long bytes = (long) s.length() * deviceItemSize(s.dtype());
        DeviceBlock b = allocate(bytes);
        context.makeCurrent();
        if (bytes > 0) CudaErrors.check(cuMemcpyHtoD(DevicePointers.at(b.address()), hostPointer(s), bytes), "cuMemcpyHtoD");
        return b;
    }

    /** Copies a device block back into a host storage of the same length and type. */
    public void download(DeviceBlock b, Storage s) { download(b, s.dtype(), s.array(), s.length()); }

    /** Copies the first {@code length} elements of type t in a device block into a host array of that type. */
    public void download(DeviceBlock b, dev.kiln.backend.DType t, Object hostArray, int length) {
        long bytes = (long) length * deviceItemSize(t);
        if (bytes > b.requested()) throw new IllegalArgumentException("download of " + bytes + " bytes from a " + b.requested() + "-byte block");
        context.makeCurrent();
        if (bytes == 0) return;
        if (t == dev.kiln.backend.DType.BOOL) {
            byte[] tmp = new byte[length];
            CudaErrors.check(cuMemcpyDtoH(Pointer.to(tmp), DevicePointers.at(b.address()), bytes), "cuMemcpyDtoH");
            boolean[] dst = (boolean[]) hostArray;
            for (int i = 0; i < tmp.length; i++) dst[i] = tmp[i] != 0;
        } else {
            Pointer p = switch (t) {
                case FLOAT32 -> Pointer.to((float[]) hostArray);
                case FLOAT64 -> Pointer.to((double[]) hostArray);
                default -> Pointer.to((long[]) hostArray);
            };
            CudaErrors.check(cuMemcpyDtoH(p, DevicePointers.at(b.address()), bytes), "cuMemcpyDtoH");
        }
    }

    public void copyDeviceToDevice(long dst, long src, long bytes) {
        context.makeCurrent();
        if (bytes > 0) CudaErrors.check(cuMemcpyDtoD(DevicePointers.at(dst), DevicePointers.at(src), bytes), "cuMemcpyDtoD");
    }

    /** Device bytes per element: Java's boolean[] travels as one byte per element. */
    public static int deviceItemSize(dev.kiln.backend.DType d) { return d == dev.kiln.backend.DType.BOOL ? 1 : d.itemSize(); }

    private static Pointer hostPointer(Storage s) {
        return switch (s.dtype()) {
            case FLOAT32 -> Pointer.to(s.f32());
            case FLOAT64 -> Pointer.to(s.f64());
            case INT64 -> Pointer.to(s.i64());
            case BOOL -> {
                boolean[] v = s.bool();
                byte[] b = new byte[v.length];
                for (int i = 0; i < v.length; i++) b[i] = (byte) (v[i] ? 1 : 0);
                yield Pointer.to(b);
            }
        };
    }

    // ---- kernels ----

    /** The function name from a source, compiling and loading the source on first use. */
    public CUfunction function(String source, String sourceName, String kernel) {
        // keyed by the whole source: generated kernels may share a name across retraces
        return functions.computeIfAbsent(new FunctionKey(source, kernel), k -> {
            CUmodule m = modules.computeIfAbsent(source, src -> {
                String ptx = NvrtcCompiler.compile(src, sourceName, info.nvrtcArch());
                context.makeCurrent();
                CUmodule mod = new CUmodule();
                CudaErrors.check(cuModuleLoadData(mod, ptx), "cuModuleLoadData(" + sourceName + ")");
                return mod;
            });
            CUfunction f = new CUfunction();
            CudaErrors.check(cuModuleGetFunction(f, m, kernel), "cuModuleGetFunction(" + kernel + ")");
            return f;
        });
    }

    /** A kernel from one of the resource files ({@link CudaKernelSources}). */
    public CUfunction kernel(String file, String kernel) {
        // by file and name: assembling the source (two resource reads) on every launch cost ~100 µs per op
        return resourceKernels.computeIfAbsent(file, f -> new ConcurrentHashMap<>())
                .computeIfAbsent(kernel, k -> function(CudaKernelSources.assembled(file), file, k));
    }

    /** Launches on the default stream; grid (gx, gy, gz) of 1-D blocks of {@code block} threads. */
    public void launch(CUfunction f, int gx, int gy, int gz, int block, Object... args) {
        if (gx == 0 || gy == 0 || gz == 0) return; // an empty tensor: nothing to do
        context.makeCurrent();
        CudaErrors.check(cuLaunchKernel(f, gx, gy, gz, block, 1, 1, 0, null, KernelArgs.pack(args), null), "cuLaunchKernel");
    }

    /** Grid size for a grid-stride loop over n elements (capped: the loop covers the rest). */
    public static int blocksFor(long n, int block) { return (int) Math.max(1, Math.min((n + block - 1) / block, 65535L * 4)); }

    /** Waits for all queued work; surfaces asynchronous kernel errors with their CUDA name. */
    public void synchronize() {
        context.makeCurrent();
        CudaErrors.check(cuCtxSynchronize(), "cuCtxSynchronize");
    }
}
