package dev.kiln.eager.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fused layer_norm op and its gradients at the sizes users run (a GPT's [B*T, C] rows),
 * rows around the pool's chunking and row lengths around the four-chain sums, in float32,
 * against float64 loops written here from the definition.
 */
class LayerNormOpTest {

    @ParameterizedTest
    @CsvSource({"1,1", "1,7", "7,3", "8,128", "9,129", "63,384", "64,130", "4099,16", "4096,128"})
    void forwardAndGradientsMatchFloat64Loops(int rows, int n) {
        Random r = new Random(31L * rows + n);
        float[] xv = new float[rows * n], gv = new float[rows * n], wv = new float[n], bv = new float[n];
        for (int i = 0; i < xv.length; i++) {
            xv[i] = (float) (r.nextGaussian() * 3 + 5); // an offset mean: the two-pass variance matters
            gv[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < n; i++) {
            wv[i] = (float) (1 + 0.5 * r.nextGaussian());
            bv[i] = (float) r.nextGaussian();
        }
        Tensor x = Tensor.of(xv, rows, n).requiresGrad(true), w = Tensor.of(wv, n).requiresGrad(true), b = Tensor.of(bv, n).requiresGrad(true);
        Tensor y = F.layerNorm(x, new int[] {n}, w, b, 1e-5);
        y.backward(Tensor.of(gv, rows, n));
        float[] yk = y.detach().toFloatArray(), dxk = x.grad().toFloatArray(), dwk = w.grad().toFloatArray(), dbk = b.grad().toFloatArray();

        double[] dw = new double[n], db = new double[n];
        for (int row = 0; row < rows; row++) {
            int o = row * n;
            double mean = 0, var = 0;
            for (int i = 0; i < n; i++) mean += xv[o + i];
            mean /= n;
            for (int i = 0; i < n; i++) var += (xv[o + i] - mean) * (xv[o + i] - mean);
            double rstd = 1 / Math.sqrt(var / n + 1e-5);
            double sumGw = 0, sumGwXhat = 0;
            for (int i = 0; i < n; i++) {
                double xhat = (xv[o + i] - mean) * rstd;
                assertEquals(xhat * wv[i] + bv[i], yk[o + i], 2e-5 * (1 + Math.abs(xhat * wv[i])), "y at " + row + "," + i);
                sumGw += gv[o + i] * wv[i];
                sumGwXhat += gv[o + i] * wv[i] * xhat;
                dw[i] += gv[o + i] * xhat;
                db[i] += gv[o + i];
            }
            for (int i = 0; i < n; i++) {
                double xhat = (xv[o + i] - mean) * rstd;
                double dx = rstd * (gv[o + i] * wv[i] - sumGw / n - xhat * sumGwXhat / n);
                assertEquals(dx, dxk[o + i], 1e-4 * rstd * (1 + Math.abs(gv[o + i] * wv[i])), "dx at " + row + "," + i);
            }
        }
        for (int i = 0; i < n; i++) {
            assertEquals(dw[i], dwk[i], 1e-5 * (1 + Math.sqrt(rows)) * 4, "dw at " + i);
            assertEquals(db[i], dbk[i], 1e-5 * (1 + Math.sqrt(rows)) * 4, "db at " + i);
        }
    }

    @ParameterizedTest
    @CsvSource({"3,5", "130,64"})
    void theFusedGradientEqualsTheCompositeOneACreateGraphBackwardTakes(int rows, int n) {
        Tensor x = Tensor.randn(rows, n).mul(2.0).add(1.0).detach().requiresGrad(true);
        Tensor w = Tensor.randn(n).detach().requiresGrad(true), b = Tensor.randn(n).detach().requiresGrad(true);
        Tensor g = Tensor.randn(rows, n);
        Tensor[][] grads = new Tensor[2][];
        for (int createGraph = 0; createGraph < 2; createGraph++) {
            Tensor y = F.layerNorm(x, new int[] {n}, w, b, 1e-5);
            grads[createGraph] = dev.kiln.eager.autograd.Autograd.grad(new Tensor[] {y}, new Tensor[] {x, w, b}, new Tensor[] {g}, false, createGraph == 1, false);
        }
        for (int i = 0; i < 3; i++) {
            float[] fused = grads[0][i].toFloatArray(), composite = grads[1][i].detach().toFloatArray();
            for (int j = 0; j < fused.length; j++) assertEquals(composite[j], fused[j], 2e-4 * (1 + Math.abs(composite[j])), "input " + i + " element " + j);
        }
    }

    @ParameterizedTest
    @CsvSource({"5", "6"})
    void aWrongWeightShapeOrDtypeIsNamed(int n) {
        Tensor x = Tensor.randn(2, 3, 5);
        var e = assertThrows(RuntimeException.class, () -> F.layerNorm(x, new int[] {5}, Tensor.randn(n == 5 ? 4 : n), null, 1e-5));
        assertTrue(e.getMessage().contains("layer_norm") && e.getMessage().contains("weight"), e.getMessage());
        var d = assertThrows(RuntimeException.class, () -> F.layerNorm(x, new int[] {5}, Tensor.randn(5).to(dev.kiln.backend.DType.FLOAT64), null, 1e-5));
        assertTrue(d.getMessage().contains("dtype"), d.getMessage());
    }
}
