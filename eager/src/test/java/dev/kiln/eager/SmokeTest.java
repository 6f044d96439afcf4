package dev.kiln.eager;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.eager.autograd.Autograd;
import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void addBroadcastAndGrad() {
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).requiresGrad(true);
        Tensor b = Tensor.of(new float[] {10, 20, 30}, 3).requiresGrad(true);
        Tensor y = a.mul(b).sum();
        assertEquals(10 + 40 + 90 + 40 + 100 + 180, y.item(), 1e-4);
        y.backward();
        assertArrayEquals(new float[] {10, 20, 30, 10, 20, 30}, a.grad().toFloatArray());
        assertArrayEquals(new float[] {5, 7, 9}, b.grad().toFloatArray());
        System.out.println(a);
    }

    @Test
    void gradcheckSome() {
        Tensor x = Tensor.of(new double[] {0.3, -0.7, 1.2, 0.5, 2.0, -1.5}, 2, 3).requiresGrad(true);
        Tensor w = Tensor.of(new double[] {0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, 3, 2).requiresGrad(true);
        assertTrue(Autograd.gradcheck(in -> in[0].matmul(in[1]).tanh().softmax(1).logsumexp(new int[] {0}, false), x, w));
        assertTrue(Autograd.gradgradcheck(in -> in[0].matmul(in[1]).sigmoid().gelu(), x, w));
    }
}
