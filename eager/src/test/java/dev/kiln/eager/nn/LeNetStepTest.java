package dev.kiln.eager.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.functional.F;
import org.junit.jupiter.api.Test;

/** LeNet-5 at batch 64: plain SGD must fit a fixed batch, and the step time is reported. */
class LeNetStepTest {
    @Test
    void sgdFitsAFixedBatchAndReportsStepTime() {
        Kiln.manualSeed(42);
        Module net = ModuleTest.lenet();
        // each class is a fixed random pattern plus noise, so a working network separates them quickly
        Tensor y = Tensor.randint(0, 10, 64);
        Tensor x = Tensor.randn(10, 1, 28, 28).indexSelect(0, y).add(Tensor.randn(64, 1, 28, 28).mul(0.5));
        double first = 0, last = 0;
        int steps = 40, timed = 0;
        long nanos = 0;
        for (int s = 0; s < steps; s++) {
            long t0 = System.nanoTime();
            net.zeroGrad();
            Tensor loss = F.crossEntropy(net.call(x), y);
            loss.backward();
            long t1 = System.nanoTime();
            if (s >= 10) {
                nanos += t1 - t0;
                timed++;
            }
            try (var ng = Autograd.noGrad()) {
                for (Tensor p : net.parameters()) p.sub_(p.grad().mul(0.1));
            }
            if (s == 0) first = loss.item();
            last = loss.item();
        }
        System.out.printf("LeNet-5 batch 64 forward+backward: %.2f ms (mean of %d steps after warm-up)%n", nanos / 1e6 / timed, timed);
        assertTrue(last < 0.8 * first, "loss should fall on a fixed batch: " + first + " -> " + last);
    }
}
