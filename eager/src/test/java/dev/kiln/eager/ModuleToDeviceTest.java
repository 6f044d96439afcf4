package dev.kiln.eager;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.eager.nn.BatchNorm1d;
import dev.kiln.eager.nn.Linear;
import dev.kiln.eager.nn.Module;
import dev.kiln.eager.nn.ReLU;
import dev.kiln.eager.nn.Sequential;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.optim.Optimizer;
import dev.kiln.eager.optim.SGD;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code Module.to(Device)}: parameters, buffers and gradients move in place (the same Tensor
 * objects stay registered), to the CPU it is a no-op, and an unusable device changes nothing.
 * The non-CPU device is {@link FakeDeviceProvider}'s {@code fake:0}, which runs the CPU kernels.
 */
class ModuleToDeviceTest {

    private static Sequential model() {
        Kiln.manualSeed(11);
        return new Sequential(new Linear(4, 5), new BatchNorm1d(5), new ReLU(), new Linear(5, 3));
    }

    private static Tensor loss(Module m, Device d) {
        Kiln.manualSeed(12);
        Tensor x = Tensor.randn(6, 4).to(d);
        Tensor y = Tensor.of(new long[] {0, 1, 2, 0, 1, 2}).to(d);
        return F.crossEntropy(m.call(x), y);
    }

    private static List<Tensor> tensors(Module m) {
        List<Tensor> all = new ArrayList<>(m.parameters());
        all.addAll(m.buffers());
        return all;
    }

    /** A module's parameters and buffers with their grads, versions and values, before a move. */
    private record Snapshot(List<Tensor> tensors, List<Tensor> grads, List<Integer> versions, List<double[]> values) {
        static Snapshot of(Module m) {
            List<Tensor> ts = ModuleToDeviceTest.tensors(m), grads = new ArrayList<>();
            List<Integer> versions = new ArrayList<>();
            List<double[]> values = new ArrayList<>();
            for (Tensor t : ts) {
                grads.add(t.grad());
                versions.add(t.version());
                values.add(t.toDoubleArray());
            }
            return new Snapshot(ts, grads, versions, values);
        }
    }

    @Test
    void toTheCpuIsANoOpKeepingParametersGradsAndOptimizerState() {
        Sequential m = model();
        Optimizer opt = SGD.builder(m.parameters()).lr(0.1).momentum(0.9).build();
        loss(m, Device.cpu()).backward();
        opt.step(); // creates the momentum buffers
        Snapshot snap = Snapshot.of(m);
        List<Tensor> before = snap.tensors(), grads = snap.grads();
        List<Integer> versions = snap.versions();
        List<double[]> vals = snap.values();
        Object buffer = opt.state(m.parameters().get(0)).get("momentum_buffer");
        assertNotNull(buffer);

        assertSame(m, m.to(Device.cpu()));

        List<Tensor> after = tensors(m);
        for (int i = 0; i < before.size(); i++) {
            Tensor t = after.get(i);
            assertSame(before.get(i), t, "tensor " + i + " was replaced");
            assertSame(grads.get(i), t.grad(), "grad " + i + " was replaced");
            assertEquals(versions.get(i), t.version(), "tensor " + i + " was written");
            assertArrayEquals(vals.get(i), t.toDoubleArray());
            assertSame(Device.cpu(), t.device());
        }
        assertSame(buffer, opt.state(m.parameters().get(0)).get("momentum_buffer"));
        opt.zeroGrad();
        loss(m, Device.cpu()).backward();
        opt.step(); // still trains
        assertNotEquals(vals.get(0)[0], m.parameters().get(0).getFlat(0));
    }

    @Test
    void anUnavailableCudaDeviceFailsLikeDeviceCudaAndMovesNothing() {
        Sequential m = model();
        loss(m, Device.cpu()).backward();
        Snapshot snap = Snapshot.of(m);
        List<Tensor> before = snap.tensors();
        List<double[]> vals = snap.values();
        List<Integer> versions = snap.versions();

        // the tag alone (Device.cuda(0) itself refuses on this class path): Module.to must check
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.to(Device.unchecked("cuda", 0)));
        IllegalStateException viaCuda = assertThrows(IllegalStateException.class, () -> m.to(Device.cuda(0)));
        assertEquals("CUDA is not available: the kiln-backends-cuda module is not on the class path", e.getMessage());
        assertEquals(viaCuda.getMessage(), e.getMessage());

        List<Tensor> after = tensors(m);
        for (int i = 0; i < before.size(); i++) {
            Tensor t = after.get(i);
            assertSame(before.get(i), t);
            assertSame(Device.cpu(), t.device(), "tensor " + i + " moved");
            assertEquals(versions.get(i), t.version(), "tensor " + i + " was touched");
            assertArrayEquals(vals.get(i), t.toDoubleArray());
            if (t.grad() != null) assertSame(Device.cpu(), t.grad().device());
        }
    }

    @Test
    void parametersBuffersAndGradsMoveInPlaceAndAnOptimizerBuiltBeforeKeepsTraining() {
        Sequential m = model();
        Sequential twin = model(); // same seed: same initial weights, stays on the CPU
        Optimizer opt = SGD.builder(m.parameters()).lr(0.1).momentum(0.9).build(); // built before the move
        Optimizer twinOpt = SGD.builder(twin.parameters()).lr(0.1).momentum(0.9).build();
        loss(m, Device.cpu()).backward();
        loss(twin, Device.cpu()).backward();

        Snapshot snap = Snapshot.of(m);
        List<Tensor> before = snap.tensors(), grads = snap.grads();
        List<Integer> versions = snap.versions();
        List<double[]> vals = snap.values();
        Linear first = (Linear) m.children().get(0);
        Tensor weight = first.weight;
        Device fake = FakeDeviceProvider.device();

        assertSame(m, m.to(fake));

        assertSame(weight, first.weight);
        assertSame(weight, m.parameters().get(0));
        List<Tensor> after = tensors(m);
        for (int i = 0; i < before.size(); i++) {
            Tensor t = after.get(i);
            assertSame(before.get(i), t, "tensor " + i + " was replaced");
            assertEquals(fake, t.device(), "tensor " + i);
            assertTrue(t.isLeaf());
            assertArrayEquals(vals.get(i), t.toDoubleArray());
            assertTrue(t.version() > versions.get(i), "a move bumps the version");
            if (grads.get(i) != null) {
                assertSame(grads.get(i), t.grad(), "grad " + i + " was replaced");
                assertEquals(fake, t.grad().device(), "grad " + i);
            }
        }
        for (Tensor p : m.parameters()) assertTrue(p.requiresGrad());
        for (Tensor b : m.buffers()) assertTrue(!b.requiresGrad());

        // three steps on the device (momentum buffers are made on it) match the CPU twin's
        int opsBefore = FakeDeviceProvider.OPS_RUN.get();
        for (int step = 0; step < 3; step++) {
            if (step > 0) {
                opt.zeroGrad();
                twinOpt.zeroGrad();
                Tensor l = loss(m, fake);
                assertEquals(fake, l.device());
                l.backward();
                loss(twin, Device.cpu()).backward();
            }
            for (Tensor p : m.parameters()) assertEquals(fake, p.grad().device());
            opt.step();
            twinOpt.step();
        }
        assertTrue(FakeDeviceProvider.OPS_RUN.get() > opsBefore, "the forward, backward and updates ran on the fake device");
        Map<String, Tensor> moved = m.namedParameters(), cpu = twin.namedParameters();
        for (var e : moved.entrySet()) {
            assertEquals(fake, e.getValue().device(), e.getKey());
            assertTrue(e.getValue().allclose(cpu.get(e.getKey()), 1e-6, 1e-6), e.getKey());
        }
        for (var e : m.namedBuffers().entrySet()) {
            assertEquals(fake, e.getValue().device(), e.getKey());
            assertTrue(e.getValue().allclose(twin.namedBuffers().get(e.getKey()), 1e-6, 1e-6), e.getKey());
        }

        // and back: the same objects again, on the CPU
        assertSame(m, m.to(Device.cpu()));
        for (int i = 0; i < before.size(); i++) {
            assertSame(before.get(i), tensors(m).get(i));
            assertSame(Device.cpu(), before.get(i).device());
        }
    }

    @Test
    void aCpuStateDictLoadsIntoAMovedModuleAndItsOwnStateDictIsOnTheDevice() {
        Sequential m = model();
        Device fake = FakeDeviceProvider.device();
        m.to(fake);
        Kiln.manualSeed(99);
        Sequential other = new Sequential(new Linear(4, 5), new BatchNorm1d(5), new ReLU(), new Linear(5, 3));
        Map<String, Tensor> cpuState = other.stateDict();
        m.loadStateDict(cpuState, true);
        for (var e : m.stateDict().entrySet()) {
            assertEquals(fake, e.getValue().device(), e.getKey());
            assertTrue(e.getValue().equal(cpuState.get(e.getKey())), e.getKey());
        }
        for (Tensor p : m.parameters()) assertEquals(fake, p.device());
    }

    /** A module whose buffer is the output of an op that requires grad (not a leaf). */
    static final class NonLeafBuffer extends Module {
        final Tensor w;
        final Tensor derived;

        NonLeafBuffer() {
            w = registerParameter("w", Tensor.ones(3));
            derived = registerBuffer("derived", w.mul(2.0));
        }
    }

    @Test
    void aNonLeafTensorIsRefusedBeforeAnythingMoves() {
        NonLeafBuffer m = new NonLeafBuffer();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.to(FakeDeviceProvider.device()));
        assertTrue(e.getMessage().contains("buffer derived is the output of MulBackward, not a leaf"), e.getMessage());
        assertTrue(e.getMessage().contains("nothing was moved"), e.getMessage());
        assertSame(Device.cpu(), m.w.device());
        assertSame(Device.cpu(), m.derived.device());

        IllegalStateException direct = assertThrows(IllegalStateException.class, () -> m.derived.moveTo_(FakeDeviceProvider.device()));
        assertTrue(direct.getMessage().contains("not a leaf"), direct.getMessage());
        assertSame(Device.cpu(), m.derived.device());
    }

    @Test
    void aGraphRecordedBeforeTheMoveRefusesBackward() {
        Linear lin = new Linear(3, 2);
        Tensor out = lin.call(Tensor.randn(4, 3)).sum(); // saved the CPU weight
        lin.to(FakeDeviceProvider.device());
        IllegalStateException e = assertThrows(IllegalStateException.class, out::backward);
        assertTrue(e.getMessage().contains("modified by an in-place operation"), e.getMessage());
    }
}
