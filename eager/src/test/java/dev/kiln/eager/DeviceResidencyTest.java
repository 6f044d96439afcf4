package dev.kiln.eager;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.Linear;
import dev.kiln.eager.nn.ReLU;
import dev.kiln.eager.nn.Sequential;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.optim.Optimizer;
import dev.kiln.eager.optim.SGD;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Device results live on the device until the host reads them ({@code Storage.onDevice}), and
 * in-place updates of device tensors are written on the device: checked on {@code fake:0},
 * whose executor keeps its own memory and counts uploads and copies back, as CUDA's does.
 */
class DeviceResidencyTest {
    private static final Device FAKE = FakeDeviceProvider.device();

    @Test
    void aChainOfDeviceOpsCopiesNothingToTheHostUntilItIsRead() {
        Kiln.manualSeed(3);
        Tensor x = Tensor.randn(4, 5);
        Tensor expected = x.mul(2.0).add(1.0).relu().sum(new int[] {1}, false);
        int copiesBefore = FakeDeviceProvider.COPIES_TO_HOST.get();
        Tensor y = x.to(FAKE).mul(2.0).add(1.0).relu().sum(new int[] {1}, false);
        assertEquals(copiesBefore, FakeDeviceProvider.COPIES_TO_HOST.get(), "no op of the chain may copy to the host");
        assertFalse(y.data().storage().isOnHost());

        assertArrayEquals(expected.toFloatArray(), y.toFloatArray());
        assertEquals(copiesBefore + 1, FakeDeviceProvider.COPIES_TO_HOST.get(), "the read copies the result once");
        assertTrue(y.data().storage().isOnHost());
        assertArrayEquals(expected.toDoubleArray(), y.toDoubleArray());
        assertEquals(copiesBefore + 1, FakeDeviceProvider.COPIES_TO_HOST.get(), "later reads use the host copy");
        assertTrue(y.toString().endsWith(", shape=[4], dtype=f32, device=fake:0)"), y.toString());
    }

    @Test
    void trainingStepsKeepParametersOnTheDeviceAndMatchTheCpu() {
        Sequential cpu = model(), dev = model();
        dev.to(FAKE);
        Optimizer cpuOpt = SGD.builder(cpu.parameters()).lr(0.1).momentum(0.9).build();
        Optimizer devOpt = SGD.builder(dev.parameters()).lr(0.1).momentum(0.9).build();
        Kiln.manualSeed(5);
        Tensor x = Tensor.randn(8, 4), y = Tensor.of(new long[] {0, 1, 2, 0, 1, 2, 0, 1});
        Tensor xd = x.to(FAKE), yd = y.to(FAKE);
        int handOvers = FakeDeviceProvider.HAND_OVERS.get();
        for (int step = 0; step < 3; step++) {
            if (step == 1) {
                // from the second step on, inputs and parameters are already on the device
                FakeDeviceProvider.UPLOADS.set(0);
                FakeDeviceProvider.COPIES_TO_HOST.set(0);
            }
            train(cpu, cpuOpt, x, y);
            train(dev, devOpt, xd, yd);
        }
        assertEquals(0, FakeDeviceProvider.UPLOADS.get(), "steps 2 and 3 upload nothing");
        assertEquals(0, FakeDeviceProvider.COPIES_TO_HOST.get(), "steps 2 and 3 copy nothing to the host");
        // SGD with momentum updates two tensors per parameter in place, each taking over its fresh value
        assertTrue(FakeDeviceProvider.HAND_OVERS.get() - handOvers >= 3 * dev.parameters().size(), "updates took over their values");
        List<Tensor> cp = cpu.parameters(), dp = dev.parameters();
        for (int i = 0; i < cp.size(); i++) {
            assertFalse(dp.get(i).data().storage().isOnHost(), "parameter " + i + " was updated on the device");
            assertArrayEquals(cp.get(i).toFloatArray(), dp.get(i).toFloatArray(), 1e-6f, "parameter " + i);
        }
    }

    @Test
    void optimizerStateSavedOnTheCpuLoadsOntoTheDevice() {
        Sequential cpu = model(), dev = model();
        Optimizer cpuOpt = SGD.builder(cpu.parameters()).lr(0.1).momentum(0.9).build();
        Kiln.manualSeed(6);
        Tensor x = Tensor.randn(8, 4), y = Tensor.of(new long[] {0, 1, 2, 0, 1, 2, 0, 1});
        train(cpu, cpuOpt, x, y); // momentum buffers now exist, on the CPU
        dev.loadStateDict(cpu.stateDict(), true);
        dev.to(FAKE);
        Optimizer devOpt = SGD.builder(dev.parameters()).lr(0.1).momentum(0.9).build();
        devOpt.loadStateDict(cpuOpt.stateDict());
        train(cpu, cpuOpt, x, y);
        train(dev, devOpt, x.to(FAKE), y.to(FAKE)); // a CPU momentum buffer would be refused here
        List<Tensor> cp = cpu.parameters(), dp = dev.parameters();
        for (int i = 0; i < cp.size(); i++) assertArrayEquals(cp.get(i).toFloatArray(), dp.get(i).toFloatArray(), 1e-6f, "parameter " + i);
    }

    @Test
    void aHostReadAfterADeviceWriteSeesTheWrite() {
        Tensor t = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).to(FAKE);
        assertEquals(10.0, t.sum().item()); // t's storage is now on the host too (to() cloned on the host)
        try (var ng = Autograd.noGrad()) {
            t.mul_(10.0);
        }
        assertFalse(t.data().storage().isOnHost(), "the device wrote the new contents; the host copy is stale");
        assertArrayEquals(new float[] {10, 20, 30, 40}, t.toFloatArray());
    }

    @Test
    void aDeviceReadAfterAnInPlaceWriteToAViewSeesTheWrite() {
        // a row of a matrix is not the whole storage: the write goes through the host, and the
        // next device op uploads the new contents because the version changed
        Tensor t = Tensor.zeros(3, 2).to(FAKE).add(1.0);
        Tensor row = t.select(0, 1);
        try (var ng = Autograd.noGrad()) {
            row.add_(5.0);
        }
        assertArrayEquals(new float[] {2, 12, 2}, t.sum(new int[] {1}, false).toFloatArray());
        assertEquals(FAKE, t.sum().device());
    }

    @Test
    void backwardOnTheDeviceMatchesTheCpu() {
        Kiln.manualSeed(9);
        Tensor a = Tensor.randn(3, 4).requiresGrad(true), b = Tensor.randn(4, 2).requiresGrad(true);
        F.crossEntropy(a.matmul(b).tanh(), Tensor.of(new long[] {0, 1, 1})).backward();
        Tensor ad = a.detach().to(FAKE).requiresGrad(true), bd = b.detach().to(FAKE).requiresGrad(true);
        F.crossEntropy(ad.matmul(bd).tanh(), Tensor.of(new long[] {0, 1, 1}).to(FAKE)).backward();
        assertEquals(FAKE, ad.grad().device());
        assertArrayEquals(a.grad().toFloatArray(), ad.grad().toFloatArray(), 1e-6f);
        assertArrayEquals(b.grad().toFloatArray(), bd.grad().toFloatArray(), 1e-6f);
    }

    @Test
    void anOpWithoutADeviceKernelRunsOnTheCpuAndStaysOnTheDevice() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        Tensor y = x.to(FAKE).mul(2.0).cumsum(1);
        assertEquals(FAKE, y.device());
        assertArrayEquals(new float[] {2, 6, 6, 14}, y.toFloatArray());
        assertArrayEquals(new float[] {3, 7, 7, 15}, y.add(1.0).toFloatArray(), "the next device op reads the CPU result");
        String old = System.getProperty("kiln.device.cpuFallback");
        System.setProperty("kiln.device.cpuFallback", "false");
        try {
            UnsupportedOperationException e = org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class,
                    () -> x.to(FAKE).cumsum(0));
            assertEquals("cumsum on fake:0: no kernel for this op", e.getMessage());
        } finally {
            if (old == null) System.clearProperty("kiln.device.cpuFallback");
            else System.setProperty("kiln.device.cpuFallback", old);
        }
    }

    private static Sequential model() {
        Kiln.manualSeed(21);
        return new Sequential(new Linear(4, 6), new ReLU(), new Linear(6, 3));
    }

    private static void train(Sequential m, Optimizer opt, Tensor x, Tensor y) {
        opt.zeroGrad();
        F.crossEntropy(m.call(x), y).backward();
        opt.step();
    }
}
