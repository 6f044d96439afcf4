package dev.kiln.eager.autograd;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.eager.Tensor;
import org.junit.jupiter.api.Test;

/** The engine is iterative and deterministic. */
class LongChainTest {

    @Test
    void hundredThousandOpChainDoesNotOverflowTheStack() {
        Tensor x = Tensor.of(new double[] {1}).requiresGrad(true);
        Tensor y = x;
        for (int i = 0; i < 100_000; i++) y = y.mul(1.0000001);
        // PyTorch 1.13 (float64): y = x.grad = 1.0100501665850405 (= 1.0000001^100000)
        assertEquals(1.0100501665850405, y.item(), 1e-12);
        y.backward();
        assertEquals(1.0100501665850405, x.grad().item(), 1e-12);
    }

    @Test
    void longChainIsPrintableAndSecondOrderWorks() {
        Tensor x = Tensor.of(new double[] {2}).requiresGrad(true);
        Tensor y = x;
        for (int i = 0; i < 20_000; i++) y = y.add(1.0);
        assertEquals(20_001, Autograd.graphText(y).lines().count(), "one line per node plus the accumulator");
        Tensor g = Autograd.grad(new Tensor[] {y.mul(y)}, new Tensor[] {x}, null, true, true, false)[0];
        // d/dx (x + n)^2 = 2(x + n)
        assertEquals(2 * 20_002.0, g.item(), 1e-9);
        assertEquals(2.0, Autograd.grad(g, x)[0].item(), 1e-12);
    }

    @Test
    void twoIdenticalBackwardRunsAreBitIdentical() {
        double[] first = run(), second = run();
        for (int i = 0; i < first.length; i++) {
            assertEquals(Double.doubleToRawLongBits(first[i]), Double.doubleToRawLongBits(second[i]), "element " + i);
        }
    }

    /** Many float32 contributions fanning into one leaf: their summation order decides the bits. */
    private static double[] run() {
        float[] v = new float[64];
        for (int i = 0; i < v.length; i++) v[i] = (float) Math.sin(i * 0.37) * 3;
        Tensor x = Tensor.of(v, 8, 8).requiresGrad(true);
        Tensor acc = x.tanh();
        for (int k = 1; k <= 40; k++) acc = acc.add(x.mul((float) (1.0 / k)).sin().matmul(x).mul(0.01));
        acc.logSoftmax(1).sum().backward();
        return x.grad().toDoubleArray();
    }
}
