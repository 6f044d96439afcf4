package dev.kiln.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The float32 2x2/stride-2 pool (pair rows, then row pairs) must pick the same tap as the
 * window-by-window rule the float64 path applies: the last NaN of a window if it has one,
 * else its first maximum in row-major order. Values are drawn from a handful of levels so
 * windows are full of ties, with NaNs sprinkled in.
 */
class MaxPoolPathsTest {
    private static long[] indices(Strided x, int[] outShape) {
        Attrs a = Op.MAX_POOL2D_INDICES.def().checkAttrs(Attrs.of("kernel_size", new int[] {2, 2}, "stride", new int[] {2, 2}));
        return CpuKernels.run(Op.MAX_POOL2D_INDICES, new Strided[] {x}, a, TensorType.of(DType.INT64, outShape)).storage().i64();
    }

    @Test
    void theHalvingPathAgreesWithTheWindowRuleOnTiesAndNaNs() {
        Random r = new Random(7);
        for (int[] s : new int[][] {{64, 6, 28, 28}, {3, 16, 10, 10}, {1, 1, 2, 2}, {2, 3, 2, 40}, {5, 2, 36, 6}}) {
            int n = s[0] * s[1] * s[2] * s[3];
            Strided f = Strided.allocate(DType.FLOAT32, s), d = Strided.allocate(DType.FLOAT64, s);
            for (int i = 0; i < n; i++) {
                float v = r.nextInt(20) == 0 ? Float.NaN : r.nextInt(4) - 1.5f;
                if (r.nextInt(50) == 0) v = r.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
                f.storage().f32()[i] = v;
                d.storage().f64()[i] = v;
            }
            int[] out = {s[0], s[1], s[2] / 2, s[3] / 2};
            assertArrayEquals(indices(d, out), indices(f, out), java.util.Arrays.toString(s));
        }
    }

    @Test
    void aHandCheckedPlane() {
        float nan = Float.NaN;
        // windows (row-major taps): [1 5 / 5 0] first max at tap 1; [2 2 / 2 2] tap 0;
        // [nan 3 / nan 1] the later NaN (tap 2); [0 nan / 9 0] the NaN (tap 1)
        float[] v = {1, 5, 2, 2, nan, 3, 0, nan,
                     5, 0, 2, 2, nan, 1, 9, 0};
        Strided x = Strided.allocate(DType.FLOAT32, new int[] {1, 1, 2, 8});
        System.arraycopy(v, 0, x.storage().f32(), 0, v.length);
        long[] idx = indices(x, new int[] {1, 1, 1, 4});
        assertArrayEquals(new long[] {1, 2, 12, 7}, idx);
        assertEquals(4, idx.length);
    }
}
