package dev.kiln.graph.exec;

/** Number formatting for explain() (the counts themselves come from FlopEstimate). */
final class Flops {
    private Flops() {}

    static String human(long f) {
        if (f >= 1_000_000_000) return String.format("%.2fG", f / 1e9);
        if (f >= 1_000_000) return String.format("%.2fM", f / 1e6);
        if (f >= 1_000) return String.format("%.1fk", f / 1e3);
        return Long.toString(f);
    }

    static String bytes(long b) {
        if (b >= 1 << 20) return String.format("%.2f MiB", b / 1048576.0);
        if (b >= 1 << 10) return String.format("%.1f KiB", b / 1024.0);
        return b + " B";
    }
}
