package dev.kiln.eager.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A line chart of training curves as SVG: axes with round-number ticks, one polyline per series,
 * a legend. Enough for loss and accuracy curves, which is why it is written here rather than
 * pulling in a plotting library; open the file in any browser.
 *
 * <pre>{@code
 * double[][] loss = log.series("step", "step", "loss");
 * LineChart.write(Path.of("runs/lenet/curves.svg"),
 *         new LineChart("loss", "step", "cross-entropy").series("train", loss[0], loss[1]),
 *         new LineChart("accuracy", "epoch", "").series("test", ...));
 * }</pre>
 */
public final class LineChart {
    private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};
    private static final int W = 480, H = 320, LEFT = 64, RIGHT = 16, TOP = 34, BOTTOM = 48;

    private record Series(String name, double[] xs, double[] ys) {}

    private final String title, xLabel, yLabel;
    private final List<Series> series = new ArrayList<>();

    public LineChart(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    /** Adds a curve; points with a non-finite coordinate are left out (the line breaks there). */
    public LineChart series(String name, double[] xs, double[] ys) {
        if (xs.length != ys.length) throw new IllegalArgumentException("series '" + name + "' has " + xs.length + " x values and " + ys.length + " y values");
        series.add(new Series(name, xs.clone(), ys.clone()));
        return this;
    }

    /** The charts side by side in one SVG file. */
    public static void write(Path file, LineChart... panels) throws IOException {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">%n",
                W * panels.length, H));
        s.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", W * panels.length, H));
        for (int i = 0; i < panels.length; i++) {
            s.append(String.format(Locale.ROOT, "<g transform=\"translate(%d,0)\">%n", W * i));
            panels[i].draw(s);
            s.append("</g>\n");
        }
        s.append("</svg>\n");
        if (file.toAbsolutePath().getParent() != null) Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, s.toString(), StandardCharsets.UTF_8);
    }

    private void draw(StringBuilder s) {
        double x0 = Double.POSITIVE_INFINITY, x1 = Double.NEGATIVE_INFINITY, y0 = Double.POSITIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY;
        for (Series c : series) {
            for (int i = 0; i < c.xs.length; i++) {
                if (!Double.isFinite(c.xs[i]) || !Double.isFinite(c.ys[i])) continue;
                x0 = Math.min(x0, c.xs[i]);
                x1 = Math.max(x1, c.xs[i]);
                y0 = Math.min(y0, c.ys[i]);
                y1 = Math.max(y1, c.ys[i]);
            }
        }
        if (x0 > x1) { // nothing to draw
            x0 = 0;
            x1 = 1;
            y0 = 0;
            y1 = 1;
        }
        if (x0 == x1) { x0 -= 1; x1 += 1; }
        if (y0 == y1) { y0 -= 1; y1 += 1; }
        double[] xt = ticks(x0, x1), yt = ticks(y0, y1);
        x0 = Math.min(x0, xt[0]);
        x1 = Math.max(x1, xt[xt.length - 1]);
        y0 = Math.min(y0, yt[0]);
        y1 = Math.max(y1, yt[yt.length - 1]);
        final double fx0 = x0, fx1 = x1, fy0 = y0, fy1 = y1;
        int pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
        java.util.function.DoubleUnaryOperator px = x -> LEFT + (x - fx0) / (fx1 - fx0) * pw;
        java.util.function.DoubleUnaryOperator py = y -> TOP + ph - (y - fy0) / (fy1 - fy0) * ph;
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">%s</text>%n", LEFT + pw / 2, xml(title)));
        for (double t : xt) {
            double x = px.applyAsDouble(t);
            s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e0e0e0\"/>%n", x, TOP, x, TOP + ph));
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", x, TOP + ph + 16, label(t)));
        }
        for (double t : yt) {
            double y = py.applyAsDouble(t);
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>%n", LEFT, y, LEFT + pw, y));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", LEFT - 6, y + 4, label(t)));
        }
        s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#404040\"/>%n", LEFT, TOP, pw, ph));
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", LEFT + pw / 2, H - 10, xml(xLabel)));
        s.append(String.format(Locale.ROOT, "<text transform=\"translate(14,%d) rotate(-90)\" text-anchor=\"middle\">%s</text>%n", TOP + ph / 2, xml(yLabel)));
        for (int k = 0; k < series.size(); k++) {
            Series c = series.get(k);
            String color = COLORS[k % COLORS.length];
            StringBuilder pts = new StringBuilder();
            for (int i = 0; i <= c.xs.length; i++) {
                boolean ok = i < c.xs.length && Double.isFinite(c.xs[i]) && Double.isFinite(c.ys[i]);
                if (ok) pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px.applyAsDouble(c.xs[i]), py.applyAsDouble(c.ys[i])));
                if (!ok && pts.length() > 0) { // a gap or the end: close this stretch of the line
                    s.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%s\"/>%n", color, pts.toString().trim()));
                    if (pts.indexOf(" ") == pts.length() - 1) { // one point: a dot, so it shows
                        String[] p = pts.toString().trim().split(",");
                        s.append(String.format(Locale.ROOT, "<circle cx=\"%s\" cy=\"%s\" r=\"2.5\" fill=\"%s\"/>%n", p[0], p[1], color));
                    }
                    pts.setLength(0);
                }
            }
            int ly = TOP + 14 + 16 * k;
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/>%n", LEFT + pw - 120, ly - 4, LEFT + pw - 100, ly - 4, color));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n", LEFT + pw - 95, ly, xml(c.name)));
        }
    }

    /** About five round-number ticks (1, 2 or 5 times a power of ten) covering [lo, hi]. */
    static double[] ticks(double lo, double hi) {
        double raw = (hi - lo) / 5, mag = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / mag;
        double step = (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
        double first = Math.floor(lo / step) * step, last = Math.ceil(hi / step) * step;
        int n = (int) Math.round((last - first) / step) + 1;
        double[] t = new double[n];
        for (int i = 0; i < n; i++) t[i] = first + i * step;
        return t;
    }

    private static String label(double v) {
        if (Math.abs(v) < 1e-12) return "0";
        String s = String.format(Locale.ROOT, "%.6g", v);
        if (s.contains("e")) return s;
        if (s.contains(".")) s = s.replaceAll("0+$", "").replaceAll("\\.$", "");
        return s;
    }

    private static String xml(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                default -> { if (c >= 0x20 || c == '\t') b.append(c); }
            }
        }
        return b.toString();
    }
}
