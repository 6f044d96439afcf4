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
 * softmax over contiguous last-dim rows is read in place; over any other dim its rows are
 * copied out first. Both give the same bits for the same row values, at attention's sizes.
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
}
