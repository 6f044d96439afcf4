package dev.kiln.eager.autograd;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.eager.Tensor;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** noGrad / enableGrad / inferenceMode scopes: nesting, restoring, thread-locality. */
class GradModeTest {

    @Test
    void noGradStopsRecordingAndRestoresOnClose() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor y;
        try (var g = Autograd.noGrad()) {
            assertFalse(GradMode.isEnabled());
            y = x.mul(2.0);
        }
        assertTrue(GradMode.isEnabled());
        assertFalse(y.requiresGrad());
        assertNull(y.gradFn());
        assertTrue(x.mul(2.0).requiresGrad());
    }

    @Test
    void scopesNest() {
        Tensor x = Tensor.of(new double[] {1}).requiresGrad(true);
        try (var outer = Autograd.noGrad()) {
            try (var inner = Autograd.enableGrad()) {
                assertTrue(GradMode.isEnabled());
                assertEquals("MulBackward", x.mul(3.0).gradFn().name());
                try (var innermost = Autograd.noGrad()) {
                    assertFalse(x.mul(3.0).requiresGrad());
                }
                assertTrue(GradMode.isEnabled(), "closing the innermost restores enableGrad");
            }
            assertFalse(GradMode.isEnabled(), "closing enableGrad restores the outer noGrad");
            assertFalse(x.mul(3.0).requiresGrad());
        }
        assertTrue(GradMode.isEnabled());
    }

    @Test
    void exceptionInsideTheScopeStillRestores() {
        assertThrows(ArithmeticException.class, () -> {
            try (var g = Autograd.noGrad()) {
                throw new ArithmeticException("boom");
            }
        });
        assertTrue(GradMode.isEnabled());
    }

    @Test
    void closingTwiceIsHarmless() {
        var outer = Autograd.noGrad();
        var inner = Autograd.enableGrad();
        inner.close();
        inner.close();
        assertFalse(GradMode.isEnabled(), "a second close must not clobber the outer scope's state");
        outer.close();
        assertTrue(GradMode.isEnabled());
    }

    @Test
    void gradModeIsPerThread() throws Exception {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        CountDownLatch inScope = new CountDownLatch(1);
        CountDownLatch checked = new CountDownLatch(1);
        CompletableFuture<Boolean> other = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                assertTrue(inScope.await(10, TimeUnit.SECONDS));
                // this thread never opened a scope: it still records
                other.complete(GradMode.isEnabled() && x.mul(2.0).requiresGrad());
            } catch (Throwable e) {
                other.completeExceptionally(e);
            } finally {
                checked.countDown();
            }
        });
        t.start();
        try (var g = Autograd.noGrad()) {
            inScope.countDown();
            assertTrue(checked.await(10, TimeUnit.SECONDS));
            assertFalse(x.mul(2.0).requiresGrad(), "this thread is still in noGrad");
        }
        t.join();
        assertTrue(other.get());
    }

    @Test
    void aScopeOpenedInAnotherThreadDoesNotLeakHere() throws Exception {
        Thread t = new Thread(() -> Autograd.noGrad()); // opened and never closed
        t.start();
        t.join();
        assertTrue(GradMode.isEnabled());
    }

    @Test
    void inferenceModeDisablesRecording() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        try (var g = Autograd.inferenceMode()) {
            assertTrue(GradMode.isInference());
            assertFalse(GradMode.isEnabled());
            Tensor y = x.exp();
            assertFalse(y.requiresGrad());
            assertArrayEquals(new double[] {Math.E, Math.exp(2)}, y.toDoubleArray(), 1e-12);
        }
        assertFalse(GradMode.isInference());
        assertTrue(GradMode.isEnabled());
    }

    @Test
    void enableGradInsideInferenceModeRecordsAgain() {
        Tensor x = Tensor.of(new double[] {1}).requiresGrad(true);
        try (var inf = Autograd.inferenceMode(); var g = Autograd.enableGrad()) {
            assertTrue(x.mul(2.0).requiresGrad());
        }
    }

    @Test
    void inPlaceWriteInInferenceModeStillInvalidatesSavedTensors() {
        // PyTorch 1.13 raises "... output 0 of ExpBackward0, is at version 1; expected version 0"
        // here: normal tensors keep their version counter inside inference mode
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor y = x.exp();
        try (var g = Autograd.inferenceMode()) {
            y.add_(1.0);
        }
        var e = assertThrows(IllegalStateException.class, () -> y.sum().backward());
        assertTrue(e.getMessage().contains("modified by an in-place operation"), e.getMessage());
    }
}
