package dev.kiln.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * softmax and softmax_backward over contiguous last-dim rows read them in place; over any other
 * dim the rows are copied out first. Both give the same bits for the same row values, at
 * attention's sizes and around the vector width, and softmax_backward agrees with float64.
 */
class SoftmaxPathsTest {
    @ParameterizedTest
    @CsvSource({"1,1", "3,17", "64,128", "513,129"})
    void contiguousRowsAndTransposedRowsGiveTheSameBits(int rows, int n) {
        Random r = new Random(rows * 31L + n);
        float[] v = new float[rows * n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * 5);
        Strided x = Strided.contiguous(Storage.wrap(v), new int[] {rows, n});
        // the same values as [n, rows], softmax over dim 0: each column is one of x's rows
        Strided xt = new Strided(x.storage(), new int[] {n, rows}, new int[] {1, n}, 0);
        Strided a = CpuKernels.run(Op.SOFTMAX, new Strided[] {x}, Attrs.of("dim", 1), TensorType.of(DType.FLOAT32, rows, n));
        Strided b = CpuKernels.run(Op.SOFTMAX, new Strided[] {xt}, Attrs.of("dim", 0), TensorType.of(DType.FLOAT32, n, rows));
        float[] av = Copy.toContiguous(a, DType.FLOAT32).storage().f32();
        float[] bv = Copy.toContiguous(b, DType.FLOAT32).storage().f32();
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < n; j++) assertEquals(av[i * n + j], bv[j * rows + i], 0f, "row " + i + " element " + j);
        }
    }

    @ParameterizedTest
    @CsvSource({"1,1", "2,15", "3,16", "5,17", "64,128", "513,129", "7,4099"})
    void softmaxBackwardRowsAgreeWithFloat64OnBothPaths(int rows, int n) {
        Random r = new Random(rows * 131L + n);
        float[] gv = new float[rows * n], xv = new float[rows * n];
        for (int i = 0; i < gv.length; i++) {
            gv[i] = (float) r.nextGaussian();
            xv[i] = (float) (r.nextGaussian() * 3);
        }
        TensorType t = TensorType.of(DType.FLOAT32, rows, n), tt = TensorType.of(DType.FLOAT32, n, rows);
        Strided g = Strided.contiguous(Storage.wrap(gv), new int[] {rows, n});
        Strided y = CpuKernels.run(Op.SOFTMAX, new Strided[] {Strided.contiguous(Storage.wrap(xv), new int[] {rows, n})}, Attrs.of("dim", 1), t);
        float[] yv = Copy.toContiguous(y, DType.FLOAT32).storage().f32();
        Strided a = CpuKernels.run(Op.SOFTMAX_BACKWARD, new Strided[] {g, y}, Attrs.of("dim", -1), t);
        // the same rows as the columns of [n, rows] views: the copying path
        Strided gt = new Strided(g.storage(), new int[] {n, rows}, new int[] {1, n}, 0);
        Strided yt = new Strided(Storage.wrap(yv), new int[] {n, rows}, new int[] {1, n}, 0);
        Strided b = CpuKernels.run(Op.SOFTMAX_BACKWARD, new Strided[] {gt, yt}, Attrs.of("dim", 0), tt);
        float[] av = Copy.toContiguous(a, DType.FLOAT32).storage().f32();
        float[] bv = Copy.toContiguous(b, DType.FLOAT32).storage().f32();
        for (int i = 0; i < rows; i++) {
            double dot = 0, mag = 0;
            for (int j = 0; j < n; j++) {
                dot += (double) gv[i * n + j] * yv[i * n + j];
                mag += Math.abs((double) gv[i * n + j] * yv[i * n + j]);
            }
            for (int j = 0; j < n; j++) {
                int k = i * n + j;
                double want = yv[k] * (gv[k] - dot);
                // float rounding of the dot (relative to the sum of |g y|) and of the two products
                double tol = yv[k] * (mag + Math.abs(gv[k])) * 4e-6 + 1e-30;
                assertEquals(want, av[k], tol, "row " + i + " element " + j);
                assertEquals(av[k], bv[j * rows + i], 0f, "copied path, row " + i + " element " + j);
            }
        }
        // the in-place path at a storage offset (a compiled plan's views): the same bits
        float[] gp = new float[gv.length + 5], yp = new float[gv.length + 3];
        System.arraycopy(gv, 0, gp, 5, gv.length);
        System.arraycopy(yv, 0, yp, 3, yv.length);
        Strided c = CpuKernels.run(Op.SOFTMAX_BACKWARD, new Strided[] {new Strided(Storage.wrap(gp), new int[] {rows, n}, new int[] {n, 1}, 5),
                new Strided(Storage.wrap(yp), new int[] {rows, n}, new int[] {n, 1}, 3)}, Attrs.of("dim", 1), t);
        float[] cv = Copy.toContiguous(c, DType.FLOAT32).storage().f32();
        for (int k = 0; k < av.length; k++) assertEquals(av[k], cv[k], 0f, "at an offset, element " + k);
    }
}
