package dev.kiln.backend.cpu.gemm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every Gemm against a naive double-precision triple loop on awkward shapes and layouts. */
class GemmTest {

    static List<Gemm> impls() {
        return List.of(
                new ScalarGemm(1),
                new ScalarGemm(2),
                new ScalarGemm(1, 3, 5, 6),
                new PanamaGemm(1),
                new PanamaGemm(2),
                // Tiny blocks: many k/m/n blocks and block edges even on small shapes.
                new PanamaGemm(1, 5, 9, 40),
                new PanamaGemm(2, 7, 17, 33));
    }

    static final int[][] SHAPES = {
            {1, 1, 1}, {1, 50, 70}, {1, 33, 1}, {40, 1, 65}, {37, 29, 1}, {7, 13, 17},
            {33, 65, 31}, {100, 37, 129}, {255, 257, 300}, {8, 32, 256}, {16, 64, 513},
    };

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Gemm g : impls()) {
            for (int[] s : SHAPES) {
                for (int layout = 0; layout < 4; layout++) {
                    out.add(Arguments.of(g, s[0], s[1], s[2], (layout & 1) != 0, (layout & 2) != 0));
                }
            }
        }
        return out.stream();
    }

    /** A strided view into a larger array with an offset and a padded leading dimension. */
    record View(int off, int rs, int cs, int size) {
        static View of(int rows, int cols, boolean transposed, int seed) {
            int off = 3 + seed % 5;
            int pad = 1 + seed % 3;
            if (transposed) {
                // Stored column-major: element (i, j) at off + i + j * ld.
                int ld = rows + pad;
                return new View(off, 1, ld, off + ld * cols + 4);
            }
            int ld = cols + pad;
            return new View(off, ld, 1, off + ld * rows + 4);
        }
    }

    @ParameterizedTest(name = "{0} {1}x{2}x{3} aT={4} bT={5}")
    @MethodSource("cases")
    void sgemmMatchesNaive(Gemm g, int m, int n, int k, boolean aT, boolean bT) {
        Random rnd = new Random(m * 31L + n * 17L + k);
        View av = View.of(m, k, aT, m + k), bv = View.of(k, n, bT, n + 2 * k);
        float[] a = randomFloats(rnd, av.size()), b = randomFloats(rnd, bv.size());
        int ldc = n + 2, cOff = 5;
        for (boolean acc : new boolean[] {false, true}) {
            float[] c = new float[cOff + ldc * m + 3];
            if (acc) {
                for (int i = 0; i < c.length; i++) c[i] = rnd.nextFloat() - 0.5f;
            } else {
                Arrays.fill(c, Float.NaN);
            }
            float[] before = c.clone();
            g.sgemm(m, n, k, a, av.off, av.rs, av.cs, b, bv.off, bv.rs, bv.cs, c, cOff, ldc, acc);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = acc ? before[cOff + i * ldc + j] : 0, mag = Math.abs(sum);
                    for (int p = 0; p < k; p++) {
                        double t = (double) a[av.off + i * av.rs + p * av.cs]
                                * b[bv.off + p * bv.rs + j * bv.cs];
                        sum += t;
                        mag += Math.abs(t);
                    }
                    float got = c[cOff + i * ldc + j];
                    if (!(Math.abs(got - sum) <= 1e-5 * mag + 1e-30)) {
                        fail(g.name() + " acc=" + acc + " C[" + i + "," + j + "] = " + got + ", expected " + sum);
                    }
                }
            }
            assertUntouchedOutside(before, c, m, n, cOff, ldc);
        }
    }

    @ParameterizedTest(name = "{0} {1}x{2}x{3} aT={4} bT={5}")
    @MethodSource("cases")
    void dgemmMatchesNaive(Gemm g, int m, int n, int k, boolean aT, boolean bT) {
        Random rnd = new Random(m * 37L + n * 13L + k);
        View av = View.of(m, k, aT, m + 2 * k), bv = View.of(k, n, bT, n + k);
        double[] a = randomDoubles(rnd, av.size()), b = randomDoubles(rnd, bv.size());
        int ldc = n + 1, cOff = 2;
        for (boolean acc : new boolean[] {false, true}) {
            double[] c = new double[cOff + ldc * m + 3];
            if (acc) {
                for (int i = 0; i < c.length; i++) c[i] = rnd.nextDouble() - 0.5;
            } else {
                Arrays.fill(c, Double.NaN);
            }
            double[] before = c.clone();
            g.dgemm(m, n, k, a, av.off, av.rs, av.cs, b, bv.off, bv.rs, bv.cs, c, cOff, ldc, acc);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = acc ? before[cOff + i * ldc + j] : 0, mag = Math.abs(sum);
                    for (int p = 0; p < k; p++) {
                        double t = a[av.off + i * av.rs + p * av.cs] * b[bv.off + p * bv.rs + j * bv.cs];
                        sum += t;
                        mag += Math.abs(t);
                    }
                    double got = c[cOff + i * ldc + j];
                    if (!(Math.abs(got - sum) <= 1e-13 * mag + 1e-300)) {
                        fail(g.name() + " acc=" + acc + " C[" + i + "," + j + "] = " + got + ", expected " + sum);
                    }
                }
            }
            for (int i = 0; i < c.length; i++) {
                int r = (i - cOff) / ldc, col = (i - cOff) % ldc;
                boolean inside = i >= cOff && r < m && col < n;
                if (!inside) assertEquals(Double.doubleToRawLongBits(before[i]), Double.doubleToRawLongBits(c[i]), "index " + i);
            }
        }
    }

    @Test
    void zeroKOverwritesWithZerosOrLeavesAccumulatorAlone() {
        for (Gemm g : impls()) {
            float[] c = new float[3 * 4];
            Arrays.fill(c, Float.NaN);
            g.sgemm(3, 4, 0, new float[0], 0, 0, 1, new float[0], 0, 4, 1, c, 0, 4, false);
            for (float v : c) assertEquals(0f, v, g.name());
            Arrays.fill(c, 2f);
            g.sgemm(3, 4, 0, new float[0], 0, 0, 1, new float[0], 0, 4, 1, c, 0, 4, true);
            for (float v : c) assertEquals(2f, v, g.name());

            double[] d = new double[3 * 4];
            Arrays.fill(d, Double.NaN);
            g.dgemm(3, 4, 0, new double[0], 0, 0, 1, new double[0], 0, 4, 1, d, 0, 4, false);
            for (double v : d) assertEquals(0d, v, g.name());
        }
    }

    @Test
    void emptyOutputTouchesNothing() {
        for (Gemm g : impls()) {
            float[] c = {Float.NaN, Float.NaN};
            float[] a = {1, 2, 3}, b = {1, 2, 3};
            g.sgemm(0, 2, 3, a, 0, 3, 1, b, 0, 1, 1, c, 0, 2, false);
            g.sgemm(2, 0, 3, a, 0, 3, 1, b, 0, 1, 1, c, 0, 0, false);
            assertTrue(Float.isNaN(c[0]) && Float.isNaN(c[1]), g.name());
            double[] d = {Double.NaN};
            g.dgemm(0, 1, 3, new double[3], 0, 3, 1, new double[3], 0, 1, 1, d, 0, 1, false);
            assertTrue(Double.isNaN(d[0]), g.name());
        }
    }

    @Test
    void threadCountDoesNotChangeBits() {
        // Both a wide shape (split over N) and a tall thin one (split over M), both > 4e6 flops.
        int[][] shapes = {{300, 517, 700}, {1001, 20, 333}};
        for (int[] s : shapes) {
            assertEquals(2, GemmParallel.parts(2, s[0], s[1], s[2], 8, 32), "shape must be split");
        }
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            Random rnd = new Random(42);
            float[] a = randomFloats(rnd, m * k), b = randomFloats(rnd, k * n);
            double[] ad = randomDoubles(rnd, m * k), bd = randomDoubles(rnd, k * n);
            float[] c0 = randomFloats(rnd, m * n);
            double[] d0 = randomDoubles(rnd, m * n);
            Gemm[][] pairs = {
                    {new PanamaGemm(1), new PanamaGemm(2)},
                    {new PanamaGemm(1), new PanamaGemm(3)},
                    {new ScalarGemm(1), new ScalarGemm(2)},
            };
            for (Gemm[] pair : pairs) {
                float[] c1 = c0.clone(), c2 = c0.clone();
                // Transposed B and accumulate: the strided pack path and the C read path.
                pair[0].sgemm(m, n, k, a, 0, k, 1, b, 0, 1, k, c1, 0, n, true);
                pair[1].sgemm(m, n, k, a, 0, k, 1, b, 0, 1, k, c2, 0, n, true);
                assertArrayEquals(c1, c2, pair[1].name());
                double[] d1 = d0.clone(), d2 = d0.clone();
                pair[0].dgemm(m, n, k, ad, 0, k, 1, bd, 0, n, 1, d1, 0, n, false);
                pair[1].dgemm(m, n, k, ad, 0, k, 1, bd, 0, n, 1, d2, 0, n, false);
                assertArrayEquals(d1, d2, pair[1].name());
            }
        }
    }

    @Test
    void providerPicksVectorKernelsWhenModulePresent() {
        Gemm g = GemmProvider.get();
        assertTrue(g == GemmProvider.get(), "chosen once");
        boolean forcedOff = "false".equals(System.getProperty("kiln.vector"));
        boolean present = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        assertEquals(present && !forcedOff, g instanceof PanamaGemm, g.name());
    }

    private static void assertUntouchedOutside(float[] before, float[] c, int m, int n, int cOff, int ldc) {
        for (int i = 0; i < c.length; i++) {
            int r = (i - cOff) / ldc, col = (i - cOff) % ldc;
            boolean inside = i >= cOff && r < m && col < n;
            if (!inside) assertEquals(Float.floatToRawIntBits(before[i]), Float.floatToRawIntBits(c[i]), "index " + i);
        }
    }

    static float[] randomFloats(Random rnd, int size) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) x[i] = rnd.nextFloat() * 2 - 1;
        return x;
    }

    static double[] randomDoubles(Random rnd, int size) {
        double[] x = new double[size];
        for (int i = 0; i < size; i++) x[i] = rnd.nextDouble() * 2 - 1;
        return x;
    }
}
