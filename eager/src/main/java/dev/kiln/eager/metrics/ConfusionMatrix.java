package dev.kiln.eager.metrics;

import dev.kiln.eager.Tensor;
import java.util.List;
import java.util.Locale;

/**
 * Counts of (actual, predicted) class pairs: row = actual class, column = predicted, as
 * scikit-learn. Accumulates over batches with {@link #update}; per-class precision, recall
 * and F1 follow from it. A ratio with a zero denominator (a class never predicted, or
 * absent) is reported as 0, as scikit-learn's default {@code zero_division}.
 */
public final class ConfusionMatrix {
    private final int numClasses;
    private final long[][] counts;

    public ConfusionMatrix(int numClasses) {
        if (numClasses <= 0) throw new IllegalArgumentException("ConfusionMatrix: numClasses must be positive, got " + numClasses);
        this.numClasses = numClasses;
        this.counts = new long[numClasses][numClasses];
    }

    /** A matrix of one batch of predictions (indices [N] or scores [N, C]) and targets [N]. */
    public static ConfusionMatrix of(Tensor predictions, Tensor targets, int numClasses) {
        ConfusionMatrix m = new ConfusionMatrix(numClasses);
        m.update(predictions, targets);
        return m;
    }

    public ConfusionMatrix update(Tensor predictions, Tensor targets) {
        long[] p = Labels.predicted(predictions, "ConfusionMatrix");
        return update(p, Labels.targets(targets, p.length, "ConfusionMatrix"));
    }

    public ConfusionMatrix update(long[] predicted, long[] actual) {
        if (predicted.length != actual.length) throw new IllegalArgumentException("ConfusionMatrix: " + predicted.length + " predictions but " + actual.length + " targets");
        for (int i = 0; i < predicted.length; i++) {
            check(predicted[i], "prediction", i);
            check(actual[i], "target", i);
        }
        for (int i = 0; i < predicted.length; i++) counts[(int) actual[i]][(int) predicted[i]]++;
        return this;
    }

    private void check(long label, String what, int i) {
        if (label < 0 || label >= numClasses) throw new IllegalArgumentException("ConfusionMatrix: " + what + " " + i + " is class " + label + ", outside [0, " + numClasses + ")");
    }

    public int numClasses() { return numClasses; }

    /** A copy of the counts, [actual][predicted]. */
    public long[][] counts() {
        long[][] out = new long[numClasses][];
        for (int i = 0; i < numClasses; i++) out[i] = counts[i].clone();
        return out;
    }

    public long total() {
        long t = 0;
        for (long[] row : counts) for (long c : row) t += c;
        return t;
    }

    public double accuracy() {
        long correct = 0;
        for (int c = 0; c < numClasses; c++) correct += counts[c][c];
        return ratio(correct, total());
    }

    /** Of the samples predicted as class c, the fraction that are c. */
    public double precision(int c) {
        checkClass(c);
        long predicted = 0;
        for (int a = 0; a < numClasses; a++) predicted += counts[a][c];
        return ratio(counts[c][c], predicted);
    }

    /** Of the samples of class c, the fraction predicted as c. */
    public double recall(int c) {
        checkClass(c);
        long actual = 0;
        for (int p = 0; p < numClasses; p++) actual += counts[c][p];
        return ratio(counts[c][c], actual);
    }

    /** Harmonic mean of precision and recall. */
    public double f1(int c) {
        double p = precision(c), r = recall(c);
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    /** Unweighted mean of the per-class F1 scores. */
    public double macroF1() {
        double s = 0;
        for (int c = 0; c < numClasses; c++) s += f1(c);
        return s / numClasses;
    }

    private void checkClass(int c) {
        if (c < 0 || c >= numClasses) throw new IndexOutOfBoundsException("class " + c + " is outside [0, " + numClasses + ")");
    }

    private static double ratio(long a, long b) { return b == 0 ? 0 : (double) a / b; }

    /** The matrix with class names (rows actual, columns predicted), then precision, recall and F1 per class. */
    public String format(List<String> classNames) {
        if (classNames.size() != numClasses) throw new IllegalArgumentException("ConfusionMatrix.format: " + classNames.size() + " class names for " + numClasses + " classes");
        int nameWidth = "actual \\ predicted".length();
        for (String n : classNames) nameWidth = Math.max(nameWidth, n.length());
        int cell = 6;
        for (String n : classNames) cell = Math.max(cell, n.length());
        for (long[] row : counts) for (long v : row) cell = Math.max(cell, Long.toString(v).length());
        StringBuilder sb = new StringBuilder();
        sb.append(pad("actual \\ predicted", nameWidth, false));
        for (String n : classNames) sb.append(' ').append(pad(n, cell, true));
        sb.append('\n');
        for (int a = 0; a < numClasses; a++) {
            sb.append(pad(classNames.get(a), nameWidth, false));
            for (int p = 0; p < numClasses; p++) sb.append(' ').append(pad(Long.toString(counts[a][p]), cell, true));
            sb.append('\n');
        }
        sb.append('\n').append(pad("class", nameWidth, false)).append("  precision  recall      f1  support\n");
        for (int c = 0; c < numClasses; c++) {
            long support = 0;
            for (long v : counts[c]) support += v;
            sb.append(pad(classNames.get(c), nameWidth, false))
                    .append(String.format(Locale.ROOT, "  %9.4f %7.4f %7.4f %8d\n", precision(c), recall(c), f1(c), support));
        }
        sb.append(String.format(Locale.ROOT, "\naccuracy %.4f over %d samples, macro F1 %.4f\n", accuracy(), total(), macroF1()));
        return sb.toString();
    }

    private static String pad(String s, int width, boolean right) {
        String fill = " ".repeat(Math.max(0, width - s.length()));
        return right ? fill + s : s + fill;
    }

    @Override
    public String toString() {
        List<String> names = new java.util.ArrayList<>();
        for (int c = 0; c < numClasses; c++) names.add(Integer.toString(c));
        return format(names);
    }
}
