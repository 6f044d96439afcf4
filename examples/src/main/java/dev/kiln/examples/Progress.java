package dev.kiln.examples;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar for training loops: redrawn in place on a terminal, printed every
 * 10% otherwise (logs and CI stay readable). Small enough that a dependency would not pay.
 */
final class Progress {
    private final PrintStream out;
    private final String label;
    private final long total;
    private final boolean interactive;
    private final long start = System.nanoTime();
    private long lastDraw;
    private int lastDecile = -1;

    Progress(PrintStream out, String label, long total) {
        this.out = out;
        this.label = label;
        this.total = total;
        this.interactive = System.console() != null;
    }

    /** {@code done} of {@code total} steps; items counts images for the rate. */
    void update(long done, long items, String stats) {
        long now = System.nanoTime();
        int decile = (int) (10 * done / Math.max(total, 1));
        boolean last = done >= total;
        if (interactive ? now - lastDraw < 100_000_000L && !last : decile == lastDecile && !last) return;
        lastDraw = now;
        lastDecile = decile;
        double secs = (now - start) / 1e9;
        double rate = items / Math.max(secs, 1e-9);
        double eta = done == 0 ? 0 : secs * (total - done) / done;
        int width = 24, filled = (int) (width * done / Math.max(total, 1));
        String bar = "#".repeat(filled) + "-".repeat(width - filled);
        String line = String.format(Locale.ROOT, "%s [%s] %d/%d  %s  %.0f img/s  %s %s", label, bar, done, total, stats, rate,
                last ? "took" : "ETA", clock(last ? secs : eta));
        if (interactive) out.print("\r" + line + (last ? "\n" : ""));
        else out.println(line);
        out.flush();
    }

    private static String clock(double s) {
        long t = Math.round(s);
        return String.format(Locale.ROOT, "%d:%02d", t / 60, t % 60);
    }
}
