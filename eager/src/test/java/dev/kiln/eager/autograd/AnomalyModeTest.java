package dev.kiln.eager.autograd;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.eager.Tensor;
import org.junit.jupiter.api.Test;

/** detectAnomaly(): NaN in backward fails at the node, naming the forward source line. */
class AnomalyModeTest {

    /** The line number of the caller. */
    private static int lineHere() { return new Throwable().getStackTrace()[1].getLineNumber(); }

    @Test
    void nanFromSqrtAtZeroNamesTheNodeAndTheForwardLine() {
        Tensor x = Tensor.of(new double[] {0, 4}).requiresGrad(true);
        IllegalStateException e;
        int line;
        try (var a = Autograd.detectAnomaly()) {
            line = lineHere() + 1;
            Tensor s = x.sqrt();
            // d/ds (s * 0) = 0, and sqrt's backward 0 / (2 * sqrt(0)) = 0 / 0 = NaN
            Tensor y = s.mul(0.0).sum();
            e = assertThrows(IllegalStateException.class, y::backward);
        }
        String m = e.getMessage();
        assertTrue(m.contains("'SqrtBackward'"), m);
        assertTrue(m.contains("nan"), m);
        assertTrue(m.contains("AnomalyModeTest.java:" + line), "expected the forward line " + line + " in: " + m);
        assertNull(x.grad(), "the NaN never reached the leaf");
    }

    @Test
    void nanFromLogAtZeroTimesZero() {
        Tensor x = Tensor.of(new double[] {0, 1}).requiresGrad(true);
        IllegalStateException e;
        int line;
        try (var a = Autograd.detectAnomaly()) {
            Tensor zero = Tensor.zeros(dev.kiln.backend.DType.FLOAT64, 2);
            line = lineHere() + 1;
            Tensor l = x.log();
            // log(0) = -inf; the gradient reaching x is 0 / 0 = NaN
            e = assertThrows(IllegalStateException.class, () -> l.mul(zero).sum().backward());
        }
        assertTrue(e.getMessage().contains("'LogBackward'"), e.getMessage());
        assertTrue(e.getMessage().contains("AnomalyModeTest.java:" + line), e.getMessage());
    }

    @Test
    void withoutAnomalyModeTheNanReachesTheGrad() {
        // the same computation silently produces NaN: that is why anomaly mode exists
        Tensor x = Tensor.of(new double[] {0, 4}).requiresGrad(true);
        x.sqrt().mul(0.0).sum().backward();
        assertTrue(Double.isNaN(x.grad().toDoubleArray()[0]));
        assertEquals(0.0, x.grad().toDoubleArray()[1]);
    }

    @Test
    void graphTextShowsForwardSitesInAnomalyMode() {
        Tensor x = Tensor.of(new double[] {1}).requiresGrad(true);
        try (var a = Autograd.detectAnomaly()) {
            int line = lineHere() + 1;
            Tensor y = x.exp();
            assertTrue(Autograd.graphText(y).contains("AnomalyModeTest.java:" + line), Autograd.graphText(y));
        }
    }

    @Test
    void versionErrorsNameTheForwardLineInAnomalyMode() {
        Tensor x = Tensor.of(new double[] {1}).requiresGrad(true);
        try (var a = Autograd.detectAnomaly()) {
            int line = lineHere() + 1;
            Tensor y = x.exp();
            y.add_(1.0);
            var e = assertThrows(IllegalStateException.class, () -> y.sum().backward());
            assertTrue(e.getMessage().contains("AnomalyModeTest.java:" + line), e.getMessage());
        }
    }

    @Test
    void anomalyScopeRestores() {
        try (var a = Autograd.detectAnomaly()) {
            assertTrue(GradMode.isAnomalyEnabled());
            assertTrue(GradMode.isEnabled(), "anomaly mode keeps grad mode as it was");
        }
        assertFalse(GradMode.isAnomalyEnabled());
    }

    @Test
    void finiteBackwardPassesInAnomalyMode() {
        Tensor x = Tensor.of(new double[] {1, 4}).requiresGrad(true);
        try (var a = Autograd.detectAnomaly()) {
            x.sqrt().sum().backward();
        }
        assertArrayEquals(new double[] {0.5, 0.25}, x.grad().toDoubleArray(), 1e-12);
    }
}
