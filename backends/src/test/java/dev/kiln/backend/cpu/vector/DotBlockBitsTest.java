package dev.kiln.backend.cpu.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A 4x4 block of dot products gives each element the bits of that dot product computed alone:
 * results must not depend on whether an element falls in a block or on an edge, which moves
 * with the matrix sizes (a faster reduction of a block's 16 sums must keep the same pairs).
 */
class DotBlockBitsTest {
    @Test
    void blockSumsEqualSingleDotProductsBitForBit() {
        FloatRows rows = VectorSupport.floatRows();
        Random r = new Random(12);
        for (int k : new int[] {1, 15, 16, 17, 100, 256, 784, 1001}) {
            float[] a = new float[4 * k], b = new float[4 * k];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) r.nextGaussian() * (i % 7 == 0 ? 1e4f : 1f); // magnitudes that make the order visible
                b[i] = (float) r.nextGaussian();
            }
            float[] block = new float[16];
            rows.dotRows(4, 4, k, a, 0, k, b, 0, k, block, 0, 4, false);
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < 4; j++) {
                    float[] one = new float[1];
                    rows.dotRows(1, 1, k, a, i * k, k, b, j * k, k, one, 0, 1, false);
                    assertEquals(Float.floatToIntBits(one[0]), Float.floatToIntBits(block[i * 4 + j]), "k " + k + " element (" + i + "," + j + ")");
                }
            }
        }
    }
}
