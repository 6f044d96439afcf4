package dev.kiln.backend.cpu.gemm;

import java.util.Arrays;
import java.util.Random;

/**
 * Quick sgemm throughput check (not a JMH benchmark; those live with the benchmarks module).
 * Prints median GFLOP/s of square sgemm for each kernel family and thread count.
 *
 * <p>Run after {@code mvn -o -pl backends test-compile}:
 * {@code java --add-modules jdk.incubator.vector -XX:UseAVX=3
 * -cp backends/target/classes:backends/target/test-classes dev.kiln.backend.cpu.gemm.GemmSpeed [sizes...]}
 */
public final class GemmSpeed {
    private static final int RUNS = 10;

    private GemmSpeed() {}

    public static void main(String[] args) {
        int[] sizes = args.length == 0 ? new int[] {256, 512, 1024}
                : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        System.out.println("float lanes: " + VectorFloatKernel.L);
        Gemm[] gemms = {new PanamaGemm(1), new PanamaGemm(2), new ScalarGemm(1)};
        for (Gemm g : gemms) {
            for (int n : sizes) {
                System.out.printf("%-40s sgemm %5d: %7.1f GFLOP/s%n", g.name(), n, gflops(g, n));
            }
        }
    }

    /** Median over RUNS timed calls after enough untimed ones for C2 to compile the kernel. */
    private static double gflops(Gemm g, int n) {
        Random rnd = new Random(1);
        float[] a = new float[n * n], b = new float[n * n], c = new float[n * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = rnd.nextFloat() - 0.5f;
            b[i] = rnd.nextFloat() - 0.5f;
        }
        long warmupNanos = 2_000_000_000L;
        long start = System.nanoTime();
        int warm = 0;
        while (warm < 5 || (System.nanoTime() - start < warmupNanos && warm < 200)) {
            g.sgemm(n, n, n, a, 0, n, 1, b, 0, n, 1, c, 0, n, false);
            warm++;
        }
        long[] t = new long[RUNS];
        for (int r = 0; r < RUNS; r++) {
            long t0 = System.nanoTime();
            g.sgemm(n, n, n, a, 0, n, 1, b, 0, n, 1, c, 0, n, false);
            t[r] = System.nanoTime() - t0;
        }
        Arrays.sort(t);
        return 2.0 * n * n * n / t[RUNS / 2];
    }
}
