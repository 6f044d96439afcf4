package dev.kiln.eager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import org.junit.jupiter.api.Test;

/**
 * Device checks in the funnel. kiln-eager's tests run without kiln-backends-cuda on the class
 * path, so CUDA is unavailable here on every machine; a tensor tagged cuda:0 (without
 * data on a GPU) exercises the checks that happen before any kernel runs.
 */
class DeviceTest {
    private static Tensor taggedCuda(Tensor t) {
        t.setDevice(Device.unchecked("cuda", 0));
        return t;
    }

    @Test
    void cpuIsTheDefault() {
        Tensor t = Tensor.ones(2, 3);
        assertSame(Device.cpu(), t.device());
        assertEquals("cpu", t.device().toString());
        assertSame(Device.cpu(), t.add(t).device());
        assertSame(t, t.to(Device.cpu()));
        assertSame(Device.cpu(), Device.of("cpu"));
    }

    @Test
    void cudaWithoutTheModuleSaysWhy() {
        assertFalse(Kiln.cudaAvailable());
        assertEquals("the kiln-backends-cuda module is not on the class path", Kiln.cudaUnavailableReason());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Device.cuda(0));
        assertEquals("CUDA is not available: the kiln-backends-cuda module is not on the class path", e.getMessage());
        assertThrows(IllegalStateException.class, () -> Device.of("cuda:1"));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> Device.of("tpu"));
        assertTrue(bad.getMessage().contains("unknown device 'tpu'"), bad.getMessage());
    }

    @Test
    void opsRefuseTensorsOnDifferentDevices() {
        Tensor a = Tensor.ones(2, 2);
        Tensor b = taggedCuda(Tensor.ones(2, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.add(b));
        assertTrue(e.getMessage().startsWith("add: tensors are on different devices: cpu and cuda:0"), e.getMessage());
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> b.matmul(a));
        assertTrue(e2.getMessage().startsWith("matmul: tensors are on different devices: cuda:0 and cpu"), e2.getMessage());
    }

    @Test
    void aZeroDimCpuScalarJoinsAnyDeviceAndTheOpGoesToThatDevice() {
        Tensor b = taggedCuda(Tensor.ones(2, 2));
        // no refusal: the op is routed to the cuda executor, which this class path lacks
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.mul(Tensor.scalar(2.0)));
        assertEquals("cuda:0: the kiln-backends-cuda module is not on the class path", e.getMessage());
    }

    @Test
    void viewsOfADeviceTensorStayOnItsDevice() {
        Tensor b = taggedCuda(Tensor.ones(2, 3));
        Tensor v = b.reshape(3, 2); // a view: metadata only, no kernel, no executor needed
        assertEquals("cuda:0", v.device().toString());
        assertEquals("cuda:0", b.transpose(0, 1).device().toString());
    }

    @Test
    void devicesCompareByKindAndIndex() {
        assertEquals(Device.unchecked("cuda", 1), Device.unchecked("cuda", 1));
        assertFalse(Device.unchecked("cuda", 0).equals(Device.unchecked("cuda", 1)));
        assertEquals("cuda:1", Device.unchecked("cuda", 1).toString());
    }
}
