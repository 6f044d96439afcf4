package dev.kiln.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.backend.device.DeviceProviders;
import dev.kiln.eager.Device;
import jcuda.driver.CUresult;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** What a machine without a usable GPU sees: clear reasons, no crash, no exception from probing. */
class CudaUnavailableTest {
    @Test
    void theProviderIsFoundThroughServiceLoader() {
        assertInstanceOf(CudaDeviceProvider.class, DeviceProviders.find("cuda"));
        assertEquals(CudaDevice.availability(), DeviceProviders.availability("cuda"));
        assertEquals(CudaBackend.isAvailable(), Kiln.cudaAvailable());
    }

    @Test
    void withoutAGpuEveryEntryPointGivesTheSameReason() {
        Assumptions.assumeFalse(CudaBackend.isAvailable(), "a CUDA device is available: the unavailable path cannot be observed here");
        String reason = CudaDevice.availability().reason();
        assertFalse(reason.isBlank());
        assertEquals("CUDA is not available: " + reason, CudaBackend.unavailableReason());
        assertEquals(reason, Kiln.cudaUnavailableReason());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Device.cuda(0));
        assertEquals("CUDA is not available: " + reason, e.getMessage());
        IllegalStateException e2 = assertThrows(IllegalStateException.class, () -> CudaBackend.device(0));
        assertEquals("CUDA is not available: " + reason, e2.getMessage());
        // probing again is cached and still does not throw (the native load failed only once)
        assertEquals(reason, CudaDevice.availability().reason());
        System.out.println("CUDA unavailable here: " + reason);
    }

    @Test
    void failedNativeLoadsAreDescribedInWords() {
        assertEquals("no NVIDIA driver found (libcuda.so.1 could not be loaded)", CudaDevice.linkFailure(new UnsatisfiedLinkError(
                "/tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open shared object file: No such file or directory")));
        assertTrue(CudaDevice.linkFailure(new UnsatisfiedLinkError("no JCudaDriver in java.library.path"))
                .startsWith("the JCuda native library could not be loaded: no JCudaDriver"));
        assertTrue(CudaDevice.linkFailure(new NoClassDefFoundError("Could not initialize class jcuda.driver.JCudaDriver"))
                .startsWith("the JCuda driver binding could not be initialized"));
    }

    @Test
    void cuInitFailuresAreDescribedInWords() {
        assertEquals("no CUDA-capable device is detected (cuInit: CUDA_ERROR_NO_DEVICE)", CudaDevice.initFailure(CUresult.CUDA_ERROR_NO_DEVICE));
        assertTrue(CudaDevice.initFailure(CUresult.CUDA_ERROR_STUB_LIBRARY).contains("stub"));
        assertTrue(CudaDevice.initFailure(CUresult.CUDA_ERROR_UNKNOWN).startsWith("cuInit failed: CUDA_ERROR_UNKNOWN"));
    }

    @Test
    void docsListExactlyTheOpsWithCudaKernels() throws Exception {
        // docs/cuda.md's coverage line is the user's answer to "will my op run on the GPU?"
        String doc = java.nio.file.Files.readString(java.nio.file.Path.of("..", "docs", "cuda.md"));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("Ops with CUDA kernels:([^\\n]*)").matcher(doc);
        assertTrue(m.find(), "docs/cuda.md has no 'Ops with CUDA kernels:' line");
        java.util.Set<String> listed = new java.util.TreeSet<>();
        java.util.regex.Matcher names = java.util.regex.Pattern.compile("`(\\w+)`").matcher(m.group(1));
        while (names.find()) listed.add(names.group(1));
        java.util.Set<String> actual = new java.util.TreeSet<>();
        for (dev.kiln.backend.op.Op op : CudaExecutor.SUPPORTED) actual.add(op.opName());
        assertEquals(actual, listed);
    }
}
