package dev.kiln.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** float32 sums are blocked and accumulated in f64: accurate for 10^7 elements, and deterministic. */
class BlockedSumTest {
    @Test
    void tenMillionFloatsAgreeWithFloat64ToOnePpm() {
        int n = 10_000_000;
        Strided x = Strided.allocate(DType.FLOAT32, new int[] {n});
        float[] v = x.storage().f32();
        Random r = new Random(42);
        double exact = 0;
        for (int i = 0; i < n; i++) {
            v[i] = r.nextFloat() + 0.5f; // all positive: naive float summation would drift by ~1e-3
            exact += v[i];
        }
        Attrs a = Op.SUM.def().checkAttrs(Attrs.of("dims", new int[0], "keepdim", false));
        Strided s1 = CpuKernels.run(Op.SUM, new Strided[] {x}, a, TensorType.of(DType.FLOAT32));
        double got = s1.storage().f32()[0];
        assertTrue(Math.abs(got - exact) / exact < 1e-6, "sum " + got + " vs " + exact);
        Strided s2 = CpuKernels.run(Op.SUM, new Strided[] {x}, a, TensorType.of(DType.FLOAT32));
        assertEquals(Float.floatToIntBits(s1.storage().f32()[0]), Float.floatToIntBits(s2.storage().f32()[0]), "bit-identical reruns");
    }
}
