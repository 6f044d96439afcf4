package dev.kiln.benchmarks;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * One result line in torch_bench.py's format, {@code {"workload": ..., "ms": ..., "threads": ...}},
 * with Python's separators and rounding, so both outputs can be joined and diffed line by line.
 */
final class JsonLine {
    private JsonLine() {}

    static String of(String workload, double ms, int threads) {
        return "{\"workload\": \"" + workload + "\", \"ms\": " + round(ms, 4) + ", \"threads\": " + threads + "}";
    }

    static String withGflops(String workload, double ms, int threads, double gflops) {
        return "{\"workload\": \"" + workload + "\", \"ms\": " + round(ms, 4) + ", \"threads\": " + threads
                + ", \"gflops\": " + round(gflops, 1) + "}";
    }

    /** Python's round(x, digits) as json.dumps prints it: shortest form, at least one decimal. */
    private static String round(double x, int digits) {
        String s = BigDecimal.valueOf(x).setScale(digits, RoundingMode.HALF_EVEN).stripTrailingZeros().toPlainString();
        return s.contains(".") ? s : s + ".0";
    }
}
