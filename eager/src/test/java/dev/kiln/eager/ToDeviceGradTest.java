package dev.kiln.eager;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.eager.autograd.AccumulateGrad;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.autograd.ToDeviceBackward;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code Tensor.to(Device)} is recorded on the tape as PyTorch's: its backward sends the gradient
 * back to the source device. Tested with {@link FakeDeviceProvider}'s {@code fake:0}.
 */
class ToDeviceGradTest {
    private static final Device FAKE = FakeDeviceProvider.device();

    @Test
    void toTheSameDeviceReturnsThisWithoutANode() {
        Tensor x = Tensor.randn(2, 3).requiresGrad(true);
        assertSame(x, x.to(Device.cpu()));
        assertTrue(x.isLeaf());
        Tensor f = Tensor.randn(2).to(FAKE);
        assertSame(f, f.to(FAKE));
    }

    @Test
    void theGradientFlowsBackToTheSourceDevice() {
        Tensor x = Tensor.of(new float[] {1, -2, 3, 0.5f, 4, -1}, 2, 3).requiresGrad(true);
        Tensor y = x.to(FAKE);
        assertEquals(FAKE, y.device());
        assertFalse(y.isLeaf());
        assertEquals("ToDeviceBackward", y.gradFn().name());
        assertEquals(Device.cpu(), ((ToDeviceBackward) y.gradFn()).sourceDevice());
        assertSame(x.gradAccumulator(), y.gradFn().nextFunctions().get(0));

        int ops = FakeDeviceProvider.OPS_RUN.get();
        Tensor z = y.mul(y).sum();
        assertEquals(FAKE, z.device());
        assertTrue(FakeDeviceProvider.OPS_RUN.get() > ops, "mul and sum ran on the fake device");
        z.backward();

        assertEquals(Device.cpu(), x.grad().device());
        assertArrayEquals(new float[] {2, -4, 6, 1, 8, -2}, x.grad().toFloatArray());
        assertNull(y.grad(), "a non-leaf keeps no grad");
    }

    @Test
    void aRoundTripAndTwoUsesAccumulateOnTheLeafDevice() {
        Tensor w = Tensor.of(new float[] {1, 2, 3}, 3).to(FAKE).requiresGrad(true); // a leaf on the device
        assertTrue(w.isLeaf());
        Tensor onCpu = w.to(Device.cpu());
        assertEquals(Device.cpu(), onCpu.device());
        assertEquals(FAKE, ((ToDeviceBackward) onCpu.gradFn()).sourceDevice());
        // w used on its device and, through the move, on the CPU: both gradients reach w on FAKE
        Tensor total = onCpu.mul(3.0).sum().to(FAKE).add(w.sum());
        total.backward();
        assertEquals(FAKE, w.grad().device());
        assertArrayEquals(new float[] {4, 4, 4}, w.grad().toFloatArray());
    }

    @Test
    void theMoveBackIsRecordedWithCreateGraph() {
        Tensor x = Tensor.of(new double[] {1, 2, -3}, 3).requiresGrad(true);
        Tensor y = x.to(FAKE).pow(3.0).sum();
        Tensor g = Autograd.grad(new Tensor[] {y}, new Tensor[] {x}, null, true, true, false)[0];
        assertEquals(Device.cpu(), g.device());
        assertArrayEquals(new double[] {3, 12, 27}, g.toDoubleArray(), 1e-12);
        assertTrue(g.requiresGrad(), "create_graph keeps the gradient differentiable");
        g.sum().backward();
        assertArrayEquals(new double[] {6, 12, -18}, x.grad().toDoubleArray(), 1e-12);
    }

    @Test
    void gradcheckThroughAMoveAndBack() {
        Tensor x = Tensor.of(new double[] {0.3, -1.2, 2.0, 0.7}, 2, 2).requiresGrad(true);
        assertTrue(Autograd.gradcheck(in -> in[0].to(FAKE).tanh().mul(in[0].to(FAKE)).to(Device.cpu()), x));
        assertTrue(Autograd.gradgradcheck(in -> in[0].to(FAKE).tanh().mul(in[0].to(FAKE)).to(Device.cpu()), x));
    }

    @Test
    void withoutGradModeOrRequiresGradTheCopyIsAPlainTensor() {
        Tensor x = Tensor.randn(3).requiresGrad(true);
        try (var ng = Autograd.noGrad()) {
            Tensor y = x.to(FAKE);
            assertFalse(y.requiresGrad());
            assertNull(y.gradFn());
        }
        Tensor plain = Tensor.randn(3).to(FAKE);
        assertFalse(plain.requiresGrad());
        assertTrue(plain.isLeaf());
        assertEquals(FAKE, plain.device());
    }

    @Test
    void anUnusableDeviceFailsBeforeAnyCopy() {
        Tensor x = Tensor.randn(3).requiresGrad(true);
        List<Op> seen = new ArrayList<>();
        OpObserver prev = Dispatcher.setObserver(new OpObserver() {
            @Override
            public void onOp(Op op, Attrs attrs, Tensor[] inputs, Tensor output) { seen.add(op); }
        });
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> x.to(Device.unchecked("cuda", 0)));
            assertEquals("CUDA is not available: the kiln-backends-cuda module is not on the class path", e.getMessage());
        } finally {
            Dispatcher.setObserver(prev);
        }
        assertTrue(seen.isEmpty(), "no op ran: " + seen);
    }

    @Test
    void theObserverSeesTheCopyAsACloneAndThenTheMove() {
        Tensor x = Tensor.randn(2, 2).requiresGrad(true);
        List<String> events = new ArrayList<>();
        Tensor[] cloneOut = new Tensor[1];
        OpObserver prev = Dispatcher.setObserver(new OpObserver() {
            @Override
            public void onOp(Op op, Attrs attrs, Tensor[] inputs, Tensor output) {
                events.add(op.opName());
                cloneOut[0] = output;
            }

            @Override
            public void onDeviceMove(Tensor source, Tensor result) {
                events.add("move " + (source == x) + " " + (result == cloneOut[0]) + " " + source.device() + "->" + result.device());
            }
        });
        Tensor y;
        try {
            y = x.to(FAKE);
        } finally {
            Dispatcher.setObserver(prev);
        }
        assertEquals(List.of("clone", "move true true cpu->fake:0"), events);
        assertSame(cloneOut[0], y, "the tensor returned is the one the observer recorded");
    }

    /** 2x as a custom Function: its result is a detached alias of forward's, with our node. */
    static final class Double extends dev.kiln.eager.autograd.Function {
        @Override
        protected Tensor forward(dev.kiln.eager.autograd.FunctionCtx ctx, Tensor... in) { return in[0].mul(2.0); }

        @Override
        protected Tensor[] backward(dev.kiln.eager.autograd.FunctionCtx ctx, Tensor g) { return new Tensor[] {g.mul(2.0)}; }
    }

    @Test
    void detachAndAFunctionOutputKeepTheDevice() {
        Tensor y = Tensor.randn(3).requiresGrad(true).to(FAKE);
        assertEquals(FAKE, y.detach().device());
        assertEquals(FAKE, Tensor.randn(3).to(FAKE).detach().device());
        Tensor w = Tensor.ones(3).to(FAKE).requiresGrad(true);
        Tensor out = new Double().apply(w);
        assertEquals(FAKE, out.device());
        out.sum().backward();
        assertEquals(FAKE, w.grad().device());
    }

    @Test
    void aCreateGraphGradientMovesAsACopyWithoutHistory() {
        Tensor p = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        p.mul(p).sum().backward(null, false, true);
        Tensor g = p.grad();
        assertTrue(g.gradFn() != null, "create_graph left a gradient with history");
        p.moveTo_(FAKE);
        assertEquals(FAKE, p.grad().device());
        assertNull(p.grad().gradFn());
        assertArrayEquals(new float[] {2, 4}, p.grad().toFloatArray());
        assertEquals(Device.cpu(), g.device(), "the old gradient (a non-leaf) is not moved in place");
    }

    @Test
    void theGradAccumulatorOfAMovedLeafIsKept() {
        Tensor p = Tensor.ones(2).requiresGrad(true);
        AccumulateGrad acc = p.gradAccumulator();
        p.moveTo_(FAKE);
        assertSame(acc, p.gradAccumulator());
        p.mul(2.0).sum().backward();
        assertEquals(FAKE, p.grad().device());
        assertArrayEquals(new float[] {2, 2}, p.grad().toFloatArray());
    }
}
