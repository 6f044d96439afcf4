package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.parallel.Parallel;

/**
 * Splits a long elementwise row into fixed-size ranges for {@link Parallel}. Each element is
 * computed by the same code whatever range holds it, so results do not depend on the split.
 */
final class ElementSplit {
    private ElementSplit() {}

    /**
     * Elements per range. Below two ranges (256 KiB of float32 in) a row stays on the caller:
     * a memory-bound pass over fewer elements takes ~30 µs, close to the cost of a hand-off.
     */
    static final int RANGE = 1 << 16;

    @FunctionalInterface
    interface Range {
        void run(int from, int to);
    }

    static void run(int n, Range body) {
        int parts = (n + RANGE - 1) / RANGE;
        if (parts < 2) {
            body.run(0, n);
            return;
        }
        Parallel.forRanges(parts, n, RANGE, true, (q, from, to) -> body.run(from, to));
    }
}
