package dev.kiln.benchmarks;

import java.util.Arrays;
import java.util.function.Supplier;

/** torch_bench.py's {@code med(f, n, warm)}: warm-up calls, then the median of n timed calls, in ms. */
final class Median {
    private Median() {}

    /** Keeps every result reachable so the JIT cannot drop the work that produced it. */
    private static volatile Object sink;

    static double ms(Supplier<?> f, int n, int warm) {
        for (int i = 0; i < warm; i++) sink = f.get();
        long[] ts = new long[n];
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            sink = f.get();
            ts[i] = System.nanoTime() - t;
        }
        Arrays.sort(ts);
        return ts[n / 2] / 1e6;
    }
}
