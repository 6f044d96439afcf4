package dev.kiln.eager.autograd;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.eager.Tensor;
import org.junit.jupiter.api.Test;

/** Custom {@link Function}s: saved tensors, non-differentiable outputs, double backward. */
class CustomFunctionTest {

    /** x^3 with a backward written in Tensor ops, so it is differentiable itself. */
    static final class Cube extends Function {
        @Override
        protected Tensor forward(FunctionCtx ctx, Tensor... in) {
            ctx.saveForBackward(in[0]);
            return in[0].mul(in[0]).mul(in[0]);
        }

        @Override
        protected Tensor[] backward(FunctionCtx ctx, Tensor g) {
            Tensor x = ctx.savedTensors()[0];
            return new Tensor[] {g.mul(x.mul(x)).mul(3.0)};
        }
    }

    /** The same, but declared once-differentiable. */
    static final class OnceCube extends Function {
        @Override
        protected Tensor forward(FunctionCtx ctx, Tensor... in) {
            ctx.saveForBackward(in[0]);
            return in[0].mul(in[0]).mul(in[0]);
        }

        @Override
        protected Tensor[] backward(FunctionCtx ctx, Tensor g) {
            Tensor x = ctx.savedTensors()[0];
            return new Tensor[] {g.mul(x.mul(x)).mul(3.0)};
        }

        @Override
        protected boolean onceDifferentiable() { return true; }
    }

    /** a * b, recording which input gradients the engine asked for. */
    static final class RecordingMul extends Function {
        boolean[] asked;

        @Override
        protected Tensor forward(FunctionCtx ctx, Tensor... in) {
            ctx.saveForBackward(in[0], in[1]);
            return in[0].mul(in[1]);
        }

        @Override
        protected Tensor[] backward(FunctionCtx ctx, Tensor g) {
            Tensor[] s = ctx.savedTensors();
            asked = new boolean[] {ctx.needsInputGrad(0), ctx.needsInputGrad(1)};
            return new Tensor[] {ctx.needsInputGrad(0) ? g.mul(s[1]) : null, ctx.needsInputGrad(1) ? g.mul(s[0]) : null};
        }
    }

    /** Rounds to integers: a step function, so its output is declared non-differentiable. */
    static final class RoundNd extends Function {
        @Override
        protected Tensor forward(FunctionCtx ctx, Tensor... in) {
            ctx.markNonDifferentiable();
            return in[0].round();
        }

        @Override
        protected Tensor[] backward(FunctionCtx ctx, Tensor g) {
            throw new AssertionError("never called for a non-differentiable output");
        }
    }

    @Test
    void forwardAndBackward() {
        Tensor x = Tensor.of(new double[] {1, -2, 0.5}).requiresGrad(true);
        Tensor y = new Cube().apply(x);
        assertArrayEquals(new double[] {1, -8, 0.125}, y.toDoubleArray(), 1e-12);
        assertEquals("CubeBackward", y.gradFn().name());
        assertSame(x, ((AccumulateGrad) y.gradFn().nextFunctions().get(0)).variable());
        y.sum().backward();
        assertArrayEquals(new double[] {3, 12, 0.75}, x.grad().toDoubleArray(), 1e-12);
    }

    @Test
    void forwardDoesNotRecordInsideTheFunction() {
        Tensor x = Tensor.of(new double[] {2}).requiresGrad(true);
        Tensor y = new Cube().apply(x);
        // the graph is one custom node, not the Mul nodes forward used
        assertEquals(1, Autograd.graphText(y).lines().filter(l -> l.contains("Backward")).count());
    }

    @Test
    void noGradInputsGiveAPlainTensor() {
        Tensor y = new Cube().apply(Tensor.of(new double[] {2}));
        assertFalse(y.requiresGrad());
        assertNull(y.gradFn());
    }

    @Test
    void needsInputGradTellsWhichGradientsAreWanted() {
        Tensor a = Tensor.of(new double[] {2, 3}).requiresGrad(true);
        Tensor b = Tensor.of(new double[] {5, 7});
        RecordingMul f = new RecordingMul();
        f.apply(a, b).sum().backward();
        assertArrayEquals(new boolean[] {true, false}, f.asked);
        assertArrayEquals(new double[] {5, 7}, a.grad().toDoubleArray());
    }

    @Test
    void markNonDifferentiableOutputDoesNotRequireGrad() {
        Tensor x = Tensor.of(new double[] {1.4, 2.6}).requiresGrad(true);
        Tensor r = new RoundNd().apply(x);
        assertArrayEquals(new double[] {1, 3}, r.toDoubleArray());
        assertFalse(r.requiresGrad());
        assertNull(r.gradFn());
        // usable as a constant: d/dx (x * round(x)) = round(x)
        x.mul(r).sum().backward();
        assertArrayEquals(new double[] {1, 3}, x.grad().toDoubleArray());
    }

    @Test
    void backwardInTensorOpsComposesWithCreateGraph() {
        Tensor x = Tensor.of(new double[] {-1, 2}).requiresGrad(true);
        Tensor y = new Cube().apply(x).sum();
        Tensor g = Autograd.grad(new Tensor[] {y}, new Tensor[] {x}, null, true, true, false)[0];
        assertArrayEquals(new double[] {3, 12}, g.toDoubleArray(), 1e-12);
        Tensor gg = Autograd.grad(g.sum(), x)[0];
        // 6x
        assertArrayEquals(new double[] {-6, 12}, gg.toDoubleArray(), 1e-12);
    }

    @Test
    void customFunctionPassesGradcheckAndGradgradcheck() {
        Tensor x = Tensor.of(new double[] {0.7, -1.3}).requiresGrad(true);
        assertTrue(Autograd.gradcheck(in -> new Cube().apply(in[0]), x));
        assertTrue(Autograd.gradgradcheck(in -> new Cube().apply(in[0]), x));
    }

    @Test
    void gradcheckCatchesAWrongBackward() {
        // a backward that forgets the factor 3: gradcheck must report the mismatch
        Function wrong = new Function() {
            @Override
            protected Tensor forward(FunctionCtx ctx, Tensor... in) {
                ctx.saveForBackward(in[0]);
                return in[0].mul(in[0]).mul(in[0]);
            }

            @Override
            protected Tensor[] backward(FunctionCtx ctx, Tensor g) {
                Tensor x = ctx.savedTensors()[0];
                return new Tensor[] {g.mul(x.mul(x))};
            }
        };
        Tensor x = Tensor.of(new double[] {0.7, -1.3}).requiresGrad(true);
        var e = assertThrows(AssertionError.class, () -> Autograd.gradcheck(in -> wrong.apply(in[0]), x));
        assertTrue(e.getMessage().contains("Jacobian mismatch"), e.getMessage());
    }

    @Test
    void onceDifferentiableWorksOnceAndRefusesDoubleBackward() {
        Tensor x = Tensor.of(new double[] {2}).requiresGrad(true);
        new OnceCube().apply(x).backward();
        assertEquals(12.0, x.grad().item(), 1e-12);

        Tensor z = Tensor.of(new double[] {2}).requiresGrad(true);
        Tensor g = Autograd.grad(new Tensor[] {new OnceCube().apply(z)}, new Tensor[] {z}, null, true, true, false)[0];
        assertEquals(12.0, g.item(), 1e-12);
        var e = assertThrows(IllegalStateException.class, () -> Autograd.grad(g, z));
        assertTrue(e.getMessage().contains("once-differentiable"), e.getMessage());
        assertTrue(e.getMessage().contains("OnceCubeBackward"), "names the function: " + e.getMessage());
    }

    @Test
    void savedTensorModifiedInPlaceIsDetected() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor h = x.mul(1.0);
        Tensor y = new Cube().apply(h);
        h.mul_(2.0);
        var e = assertThrows(IllegalStateException.class, () -> y.sum().backward());
        assertTrue(e.getMessage().contains("modified by an in-place operation"), e.getMessage());
        assertTrue(e.getMessage().contains("CubeBackward"), e.getMessage());
    }

    @Test
    void savedTensorsAreFreedAfterBackward() {
        Tensor x = Tensor.of(new double[] {1}).requiresGrad(true);
        Tensor y = new Cube().apply(x);
        y.backward();
        var e = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(e.getMessage().contains("second time"), e.getMessage());
    }

    @Test
    void wrongNumberOfGradientsIsReported() {
        Function bad = new Function() {
            @Override
            protected Tensor forward(FunctionCtx ctx, Tensor... in) { return in[0].add(in[1]); }

            @Override
            protected Tensor[] backward(FunctionCtx ctx, Tensor g) { return new Tensor[] {g}; }

            @Override
            protected String name() { return "BadBackward"; }
        };
        Tensor a = Tensor.of(new double[] {1}).requiresGrad(true);
        Tensor b = Tensor.of(new double[] {2}).requiresGrad(true);
        Tensor y = bad.apply(a, b);
        var e = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(e.getMessage().contains("BadBackward") && e.getMessage().contains("2 inputs"), e.getMessage());
    }
}
