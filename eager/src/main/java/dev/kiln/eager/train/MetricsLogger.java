package dev.kiln.eager.train;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Training metrics per step and per epoch, written as they come to {@code metrics.jsonl} (every
 * record, one JSON object a line) and to one CSV file per phase ({@code step.csv},
 * {@code epoch.csv}, whose columns are the first record's keys), and kept in memory for
 * {@link LineChart}s. Each line is flushed, so a crashed run keeps what it logged.
 *
 * <pre>{@code
 * try (MetricsLogger log = MetricsLogger.open(Path.of("runs/lenet"))) {
 *     log.log("step", Map.of("step", step, "loss", loss.item()));
 *     log.log("epoch", Map.of("epoch", epoch, "train_loss", avg, "test_acc", acc));
 * }
 * }</pre>
 */
public final class MetricsLogger implements AutoCloseable {
    /** One logged record: its phase and values in the order given. */
    public record Record(String phase, Map<String, Double> values) {}

    /** A phase names a file: checked on every record, so compiled once. */
    private static final java.util.regex.Pattern PHASE = java.util.regex.Pattern.compile("[A-Za-z0-9_]+");

    private final Path dir;
    private final BufferedWriter jsonl;
    private final Map<String, BufferedWriter> csv = new LinkedHashMap<>();
    private final Map<String, List<String>> columns = new LinkedHashMap<>();
    private final List<Record> records = new ArrayList<>();

    private MetricsLogger(Path dir) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
        this.jsonl = Files.newBufferedWriter(dir.resolve("metrics.jsonl"), StandardCharsets.UTF_8);
    }

    /** Creates {@code dir} if needed; files of an earlier run there are replaced. */
    public static MetricsLogger open(Path dir) throws IOException { return new MetricsLogger(dir); }

    /**
     * Logs one record of {@code phase} ("step", "epoch", or any name made of letters, digits and
     * '_'). Values are numbers; a later record of a phase may leave out keys (empty CSV cells) but
     * not add new ones, since a CSV file's columns are fixed by its header.
     */
    public synchronized void log(String phase, Map<String, ? extends Number> values) {
        if (!PHASE.matcher(phase).matches()) throw new IllegalArgumentException("phase '" + phase + "' must be letters, digits and '_' (it names a file)");
        Map<String, Double> v = new LinkedHashMap<>();
        values.forEach((k, x) -> {
            if (x == null) throw new IllegalArgumentException("metric '" + k + "' of phase " + phase + " is null");
            if (k.isEmpty() || k.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f || ch == ',' || ch == '"' || ch == '\\')) {
                throw new IllegalArgumentException("metric name '" + k.replaceAll("\\p{Cntrl}", "?") + "' must be non-empty, without control characters, commas, quotes or backslashes (it is a CSV column and a JSON key)");
            }
            v.put(k, x.doubleValue());
        });
        try {
            List<String> cols = columns.get(phase);
            if (cols == null) {
                cols = List.copyOf(v.keySet());
                columns.put(phase, cols);
                BufferedWriter w = Files.newBufferedWriter(dir.resolve(phase + ".csv"), StandardCharsets.UTF_8);
                w.write(String.join(",", cols));
                w.write('\n');
                csv.put(phase, w);
            }
            for (String k : v.keySet()) {
                if (!cols.contains(k)) throw new IllegalArgumentException("metric '" + k + "' is new in phase " + phase + "; its CSV columns are " + cols);
            }
            StringBuilder row = new StringBuilder();
            for (int i = 0; i < cols.size(); i++) {
                if (i > 0) row.append(',');
                Double x = v.get(cols.get(i));
                if (x != null) row.append(number(x));
            }
            BufferedWriter w = csv.get(phase);
            w.write(row.append('\n').toString());
            w.flush();
            StringBuilder json = new StringBuilder("{\"phase\":\"").append(phase).append('"');
            v.forEach((k, x) -> json.append(",\"").append(k).append("\":")
                    .append(Double.isFinite(x) ? number(x) : "\"" + x + "\""));
            jsonl.write(json.append("}\n").toString());
            jsonl.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the metrics in " + dir, e);
        }
        records.add(new Record(phase, Collections.unmodifiableMap(v)));
    }

    /** Integers without ".0"; other numbers in Java's shortest round-tripping form. */
    private static String number(double x) {
        if (x == Math.rint(x) && Math.abs(x) < 1e15) return Long.toString((long) x);
        return Double.toString(x).toLowerCase(Locale.ROOT);
    }

    /** Everything logged so far, in order. */
    public synchronized List<Record> records() { return List.copyOf(records); }

    /** The values of {@code key} in records of {@code phase}, paired with their {@code x} key: [xs, ys]. */
    public synchronized double[][] series(String phase, String x, String key) {
        List<double[]> pts = new ArrayList<>();
        for (Record r : records) {
            if (r.phase().equals(phase) && r.values().containsKey(x) && r.values().containsKey(key)) pts.add(new double[] {r.values().get(x), r.values().get(key)});
        }
        double[][] out = new double[2][pts.size()];
        for (int i = 0; i < pts.size(); i++) {
            out[0][i] = pts.get(i)[0];
            out[1][i] = pts.get(i)[1];
        }
        return out;
    }

    public Path directory() { return dir; }

    @Override
    public synchronized void close() throws IOException {
        IOException first = null;
        for (BufferedWriter w : csv.values()) {
            try {
                w.close();
            } catch (IOException e) {
                if (first == null) first = e;
            }
        }
        jsonl.close();
        if (first != null) throw first;
    }
}
