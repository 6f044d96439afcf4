package dev.kiln.eager.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar for training loops: redrawn in place on a terminal, printed every
 * 10% otherwise (logs and CI stay readable). Small enough that a dependency would not pay.
 *
 * <pre>{@code
 * ProgressBar bar = new ProgressBar(System.out, "epoch 1/3", loader.size(), "img");
 * for (List<Tensor> batch : loader) { ...; bar.update(++step, seen, "loss 0.4213"); }
 * }</pre>
 */
public final class ProgressBar {
    private final PrintStream out;
    private final String label;
    private final long total;
    private final boolean interactive;
    private final String unit;
    private final long start = System.nanoTime();
    private long lastDraw;
    private int lastDecile = -1;

    /**
     * A bar over {@code total} steps; {@code unit} names what the rate counts ({@code img} gives
     * "1234 img/s"). It redraws in place when standard output is a terminal.
     */
    public ProgressBar(PrintStream out, String label, long total, String unit) {
        this(out, label, total, unit, System.console() != null);
    }

    /** As above, choosing in-place redrawing ({@code interactive}) or a line per 10%. */
    public ProgressBar(PrintStream out, String label, long total, String unit, boolean interactive) {
        if (total < 0) throw new IllegalArgumentException("total must be at least 0, got " + total);
        this.out = out;
        this.label = label;
        this.total = total;
        this.unit = unit;
        this.interactive = interactive;
    }

    /** {@code done} of the total steps; {@code items} (images, tokens) so far gives the rate; {@code stats} is shown as is. */
    public void update(long done, long items, String stats) {
        long now = System.nanoTime();
        int decile = (int) (10 * done / Math.max(total, 1));
        boolean last = done >= total;
        if (interactive ? now - lastDraw < 100_000_000L && !last : decile == lastDecile && !last) return;
        lastDraw = now;
        lastDecile = decile;
        double secs = (now - start) / 1e9;
        double rate = items / Math.max(secs, 1e-9);
        double eta = done == 0 ? 0 : secs * (total - done) / done;
        int width = 24, filled = (int) (width * Math.min(done, total) / Math.max(total, 1));
        String bar = "#".repeat(filled) + "-".repeat(width - filled);
        String line = String.format(Locale.ROOT, "%s [%s] %d/%d  %s  %.0f %s/s  %s %s", label, bar, done, total, stats, rate, unit,
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
