package dev.kiln.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Shapes;
import dev.kiln.backend.shape.TensorType;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The row kernels' and cat's write-into kernels, into a destination inside a larger buffer at an
 * offset: the same bits as the allocating kernel, every element written, nothing outside the
 * destination touched; and the calls they decline, declined before writing.
 */
class IntoKernelsTest {
    private static final Random R = new Random(5);

    private static Strided random(int... shape) {
        float[] v = new float[Shapes.numelInt(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) R.nextGaussian();
        return Strided.contiguous(Storage.wrap(v), shape);
    }

    /** runInto at offset 7 of a NaN-filled buffer equals run, bit for bit, and leaves the rest NaN. */
    private static void intoEqualsRun(Op op, Strided[] in, Attrs a, int... shape) {
        TensorType t = TensorType.of(DType.FLOAT32, shape);
        assertTrue(CpuKernels.hasInto(op, a, t), op.opName());
        float[] want = Copy.toContiguous(CpuKernels.run(op, in, a, t), DType.FLOAT32).storage().f32();
        float[] buf = new float[want.length + 12];
        Arrays.fill(buf, Float.NaN);
        Strided dest = new Strided(Storage.wrap(buf), shape, Shapes.contiguousStrides(shape), 7);
        assertTrue(CpuKernels.runInto(op, in, a, t, dest), op.opName() + " declined");
        for (int i = 0; i < want.length; i++) assertEquals(want[i], buf[7 + i], 0f, op.opName() + " element " + i);
        for (int i = 0; i < 7; i++) assertTrue(Float.isNaN(buf[i]), op.opName() + " wrote before its destination");
        for (int i = 7 + want.length; i < buf.length; i++) assertTrue(Float.isNaN(buf[i]), op.opName() + " wrote after its destination");
    }

    @Test
    void rowKernelsAndCatWriteIntoADestinationAtAnOffset() {
        for (int n : new int[] {1, 17, 128}) {
            Strided x = random(3, 5, n), g = random(3, 5, n), w = random(n), b = random(n);
            Strided y = CpuKernels.run(Op.SOFTMAX, new Strided[] {x}, Attrs.of("dim", -1), TensorType.of(DType.FLOAT32, 3, 5, n));
            intoEqualsRun(Op.SOFTMAX, new Strided[] {x}, Attrs.of("dim", 2), 3, 5, n);
            intoEqualsRun(Op.SOFTMAX_BACKWARD, new Strided[] {g, y}, Attrs.of("dim", -1), 3, 5, n);
            intoEqualsRun(Op.LAYER_NORM, new Strided[] {x, w, b}, Attrs.of("dims", 1, "eps", 1e-5), 3, 5, n);
            intoEqualsRun(Op.LAYER_NORM, new Strided[] {x}, Attrs.of("dims", 2, "eps", 1e-5), 3, 5, n);
            intoEqualsRun(Op.LAYER_NORM_GRAD, new Strided[] {x, g, w}, Attrs.of("wrt", "x", "dims", 1, "eps", 1e-5), 3, 5, n);
            intoEqualsRun(Op.CAT, new Strided[] {x, g, random(3, 5, 2)}, Attrs.of("dim", 2), 3, 5, 2 * n + 2);
            intoEqualsRun(Op.CAT, new Strided[] {x, g}, Attrs.of("dim", 0), 6, 5, n);
        }
    }

    @Test
    void callsTheyCannotServeAreDeclinedBeforeWriting() {
        Strided x = random(4, 6), g = random(4, 6), w = random(6);
        TensorType t = TensorType.of(DType.FLOAT32, 4, 6);
        float[] buf = new float[24];
        Arrays.fill(buf, Float.NaN);
        Strided dest = Strided.contiguous(Storage.wrap(buf), new int[] {4, 6});
        // along dim 0: no write-into kernel, and no slot in a plan
        assertFalse(CpuKernels.hasInto(Op.SOFTMAX, Attrs.of("dim", 0), t));
        assertFalse(CpuKernels.runInto(Op.SOFTMAX, new Strided[] {x}, Attrs.of("dim", 0), t, dest));
        // a transposed input along the last dim: served by the allocating kernel
        Strided xt = new Strided(x.storage(), new int[] {4, 6}, new int[] {1, 4}, 0);
        assertFalse(CpuKernels.runInto(Op.SOFTMAX, new Strided[] {xt}, Attrs.of("dim", 1), t, dest));
        // layer norm's weight gradient always allocates
        Attrs weight = Attrs.of("wrt", "weight", "dims", 1, "eps", 1e-5);
        assertFalse(CpuKernels.hasInto(Op.LAYER_NORM_GRAD, weight, TensorType.of(DType.FLOAT32, 6)));
        // an input in the destination's storage
        assertFalse(CpuKernels.runInto(Op.SOFTMAX_BACKWARD, new Strided[] {g, dest}, Attrs.of("dim", 1), t, dest));
        assertFalse(CpuKernels.runInto(Op.LAYER_NORM_GRAD, new Strided[] {x, dest, w}, Attrs.of("wrt", "x", "dims", 1, "eps", 1e-5), t, dest));
        for (float v : buf) assertTrue(Float.isNaN(v), "a declined call wrote");
    }
}
