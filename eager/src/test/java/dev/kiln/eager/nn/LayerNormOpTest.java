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
 * rows around the pool's chunking and row lengths around the vector width and the sums' 1024-element
 * blocks, in float32,
 * against float64 loops written here from the definition.
 */
class LayerNormOpTest {

    @ParameterizedTest
    @CsvSource({"1,1", "1,7", "7,3", "8,128", "9,129", "63,384", "64,130", "4099,16", "4096,128", "3,1025", "2,5000"})
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

    @org.junit.jupiter.api.Test
    void aWeightThatDoesNotFitIsNamedAndOneThatBroadcastsOrPromotesComputesAsBefore() {
        Tensor x = Tensor.randn(2, 3, 5);
        var e = assertThrows(RuntimeException.class, () -> F.layerNorm(x, new int[] {5}, Tensor.randn(4), null, 1e-5));
        assertTrue(e.getMessage().contains("layer_norm") && e.getMessage().contains("weight"), e.getMessage());
        var b = assertThrows(IllegalArgumentException.class, () -> dev.kiln.eager.nn.functional.NnPrimitives.layerNorm(x, 1, null, Tensor.randn(5), 1e-5));
        assertTrue(b.getMessage().contains("bias"), b.getMessage());
        Tensor w = Tensor.randn(5), bias = Tensor.randn(5);
        Tensor fused = F.layerNorm(x, new int[] {5}, w, bias, 1e-5);
        // a float64 weight promotes (the composite form), a [1, 5] bias broadcasts: the same values
        Tensor promoted = F.layerNorm(x, new int[] {5}, w.to(dev.kiln.backend.DType.FLOAT64), bias, 1e-5);
        Tensor broadcast = F.layerNorm(x, new int[] {5}, w, bias.reshape(1, 5), 1e-5);
        assertEquals(dev.kiln.backend.DType.FLOAT64, promoted.dtype());
        float[] f = fused.toFloatArray(), p = promoted.to(dev.kiln.backend.DType.FLOAT32).toFloatArray(), q = broadcast.toFloatArray();
        for (int i = 0; i < f.length; i++) {
            assertEquals(f[i], p[i], 1e-5, "promoted at " + i);
            assertEquals(f[i], q[i], 1e-5, "broadcast bias at " + i);
        }
    }

    /** backward(gradient) with a float64 seed on a float32 layer norm: cast, as PyTorch does. */
    @org.junit.jupiter.api.Test
    void aSeedOfAnotherDtypeIsCast() {
        Tensor x = Tensor.randn(3, 8).requiresGrad(true), w = Tensor.randn(8).requiresGrad(true);
        Tensor seed = Tensor.randn(3, 8);
        F.layerNorm(x, new int[] {8}, w, null, 1e-5).backward(seed);
        float[] want = x.grad().toFloatArray();
        x.setGrad(null);
        F.layerNorm(x, new int[] {8}, w, null, 1e-5).backward(seed.to(dev.kiln.backend.DType.FLOAT64));
        float[] got = x.grad().toFloatArray();
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 0f, "dx at " + i);
    }
}
