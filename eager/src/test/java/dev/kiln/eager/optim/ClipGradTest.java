package dev.kiln.eager.optim;

import static dev.kiln.eager.optim.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.eager.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** clipGradNorm / clipGradValue against torch.nn.utils (clip.json). */
class ClipGradTest {
    static final Map<String, Object> CLIP = map(load("clip.json"));

    static OptimizerParityTest.Model modelWithGrads() {
        OptimizerParityTest.Model m = new OptimizerParityTest.Model();
        m.loss().backward();
        return m;
    }

    @Test
    void clipGradNormMatchesPyTorch() {
        for (Object o : list(CLIP.get("norm"))) {
            Map<String, Object> c = map(o);
            double normType = "inf".equals(c.get("norm_type")) ? Double.POSITIVE_INFINITY : ((Number) c.get("norm_type")).doubleValue();
            double maxNorm = ((Number) c.get("max_norm")).doubleValue();
            String what = "norm " + normType + ", max " + maxNorm;
            OptimizerParityTest.Model m = modelWithGrads();
            Tensor total = ClipGrad.clipGradNorm(List.of(m.w, m.b), maxNorm, normType);
            assertClose(new double[] {((Number) c.get("total_norm")).doubleValue()}, new double[] {total.item()}, 1e-5, what + " total");
            assertClose(doubles(c.get("W_grad")), m.w.grad().toDoubleArray(), 1e-5, what + " W.grad");
            assertClose(doubles(c.get("b_grad")), m.b.grad().toDoubleArray(), 1e-5, what + " b.grad");
        }
    }

    @Test
    void clipGradValueMatchesPyTorch() {
        Map<String, Object> c = map(CLIP.get("value"));
        OptimizerParityTest.Model m = modelWithGrads();
        ClipGrad.clipGradValue(List.of(m.w, m.b), ((Number) c.get("clip")).doubleValue());
        assertClose(doubles(c.get("W_grad")), m.w.grad().toDoubleArray(), 1e-6, "W.grad");
        assertClose(doubles(c.get("b_grad")), m.b.grad().toDoubleArray(), 1e-6, "b.grad");
    }

    @Test
    void parametersWithoutGradientsAreSkipped() {
        Tensor p = Tensor.zeros(3).requiresGrad(true);
        assertEquals(0.0, ClipGrad.clipGradNorm(List.of(p), 1.0).item());
        Tensor q = Tensor.zeros(2).requiresGrad(true);
        q.setGrad(Tensor.of(new float[] {3, 4}, 2));
        assertEquals(5.0, ClipGrad.clipGradNorm(List.of(p, q), 1.0).item(), 1e-6);
        assertArrayEquals(new float[] {0.6f, 0.8f}, q.grad().toFloatArray(), 1e-6f);
    }

    @Test
    void rejectsBadNormType() {
        var e = assertThrows(IllegalArgumentException.class, () -> ClipGrad.clipGradNorm(List.of(), 1.0, 0.0));
        assertTrue(e.getMessage().contains("normType"), e.getMessage());
    }
}
