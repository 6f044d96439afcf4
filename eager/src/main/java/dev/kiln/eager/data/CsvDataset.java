package dev.kiln.eager.data;

import dev.kiln.eager.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A table from a CSV file (RFC 4180: quoted fields, doubled quotes, CRLF or LF): each row is a
 * sample {@code [features f32[F], label]}. The label is a class ({@code i64}, classes numbered in
 * sorted order, as scikit-learn's LabelEncoder does), an integer ({@code i64}) or a number
 * ({@code f32}, for regression). Every cell is checked while reading; a bad one is an error naming
 * the file, the line and the column.
 *
 * <pre>{@code
 * CsvDataset iris = CsvDataset.builder(Path.of("iris.csv")).label("species").build();
 * iris.classes();      // [setosa, versicolor, virginica]
 * iris.get(0);         // [f32[4] features, i64 scalar class]
 * }</pre>
 */
public final class CsvDataset implements Dataset<List<Tensor>> {
    /** How the label column is read. */
    public enum LabelKind {
        /** Any text; classes are numbered 0.. in sorted order. */
        CLASS,
        /** Integers, used as they are (i64). */
        INTEGER,
        /** Numbers, as f32 (regression targets). */
        NUMBER
    }

    private final Tensor features, labels;
    private final List<String> featureNames, classes;

    private CsvDataset(Tensor features, Tensor labels, List<String> featureNames, List<String> classes) {
        this.features = features;
        this.labels = labels;
        this.featureNames = featureNames;
        this.classes = classes;
    }

    public static Builder builder(Path file) { return new Builder(file); }

    public static final class Builder {
        private final Path file;
        private char delimiter = ',';
        private boolean header = true;
        private String labelName;
        private Integer labelIndex;
        private LabelKind kind = LabelKind.CLASS;
        private List<String> featureColumns;

        private Builder(Path file) { this.file = file; }

        /** The field separator (default ','; ';' and '\t' are common). */
        public Builder delimiter(char d) {
            if (d == '"' || d == '\n' || d == '\r') throw new IllegalArgumentException("the delimiter cannot be a quote or a line break");
            delimiter = d;
            return this;
        }

        /** Whether the first row names the columns (default true). */
        public Builder header(boolean h) { header = h; return this; }

        /** The label column by name (needs a header). */
        public Builder label(String column) { labelName = column; labelIndex = null; return this; }

        /** The label column by position (0-based). */
        public Builder label(int column) { labelIndex = column; labelName = null; return this; }

        public Builder labelKind(LabelKind k) { kind = k; return this; }

        /** The feature columns by name, in this order (default: every column but the label). */
        public Builder features(String... columns) { featureColumns = List.of(columns); return this; }

        public CsvDataset build() throws IOException {
            String what = file.getFileName().toString();
            try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                CsvRows rows = new CsvRows(r, delimiter, what);
                List<String> head = header ? rows.next() : null;
                if (header && head == null) throw new IllegalArgumentException(what + ": the file is empty (a header was expected)");
                List<String[]> body = new ArrayList<>();
                List<Integer> lines = new ArrayList<>(); // where each record starts: quoted fields may span lines
                int width = head != null ? head.size() : -1;
                for (List<String> row; (row = rows.next()) != null; ) {
                    if (row.size() == 1 && row.get(0).isEmpty()) continue; // a blank line
                    if (width < 0) width = row.size();
                    if (row.size() != width) throw new IllegalArgumentException(what + " line " + rows.line() + ": " + row.size() + " fields, expected " + width);
                    body.add(row.toArray(new String[0]));
                    lines.add(rows.line());
                }
                if (body.isEmpty()) throw new IllegalArgumentException(what + ": no data rows");
                List<String> names = head != null ? head : numbered(width);
                int label = labelColumn(names, what);
                int[] feats = featureColumns(names, label, what);
                return parse(body, names, feats, label, lines, what);
            }
        }

        private int labelColumn(List<String> names, String what) {
            if (labelName != null) {
                if (!header) throw new IllegalArgumentException(what + ": label(\"" + labelName + "\") names a column, but the file has no header; use label(index)");
                int i = names.indexOf(labelName);
                if (i < 0) throw new IllegalArgumentException(what + ": no column '" + labelName + "' (columns: " + String.join(", ", names) + ")");
                return i;
            }
            if (labelIndex != null) {
                if (labelIndex < 0 || labelIndex >= names.size()) throw new IllegalArgumentException(what + ": label column " + labelIndex + " is out of range for " + names.size() + " columns");
                return labelIndex;
            }
            throw new IllegalArgumentException(what + ": say which column is the label: label(\"name\") or label(index)");
        }

        private int[] featureColumns(List<String> names, int label, String what) {
            if (featureColumns == null) {
                int[] f = new int[names.size() - 1];
                for (int i = 0, k = 0; i < names.size(); i++) if (i != label) f[k++] = i;
                return f;
            }
            int[] f = new int[featureColumns.size()];
            for (int k = 0; k < f.length; k++) {
                f[k] = names.indexOf(featureColumns.get(k));
                if (f[k] < 0) throw new IllegalArgumentException(what + ": no feature column '" + featureColumns.get(k) + "' (columns: " + String.join(", ", names) + ")");
                if (f[k] == label) throw new IllegalArgumentException(what + ": column '" + featureColumns.get(k) + "' is the label; it cannot also be a feature");
            }
            return f;
        }

        private CsvDataset parse(List<String[]> body, List<String> names, int[] feats, int label, List<Integer> lines, String what) {
            int n = body.size(), f = feats.length;
            float[] x = new float[Math.multiplyExact(n, f)];
            for (int r = 0; r < n; r++) {
                for (int k = 0; k < f; k++) x[r * f + k] = number(body.get(r)[feats[k]], what, lines.get(r), names.get(feats[k]));
            }
            List<String> featureNames = new ArrayList<>();
            for (int c : feats) featureNames.add(names.get(c));
            Tensor features = Tensor.of(x, n, f);
            return switch (kind) {
                case NUMBER -> {
                    float[] y = new float[n];
                    for (int r = 0; r < n; r++) y[r] = number(body.get(r)[label], what, lines.get(r), names.get(label));
                    yield new CsvDataset(features, Tensor.of(y, n), featureNames, List.of());
                }
                case INTEGER -> {
                    long[] y = new long[n];
                    for (int r = 0; r < n; r++) {
                        String cell = body.get(r)[label].strip();
                        try {
                            y[r] = Long.parseLong(cell);
                        } catch (NumberFormatException e) {
                            throw new IllegalArgumentException(what + " line " + (lines.get(r)) + ", column '" + names.get(label) + "': '" + cell + "' is not an integer");
                        }
                    }
                    yield new CsvDataset(features, Tensor.of(y, n), featureNames, List.of());
                }
                case CLASS -> {
                    TreeSet<String> distinct = new TreeSet<>();
                    for (String[] row : body) distinct.add(row[label].strip());
                    List<String> classes = List.copyOf(distinct);
                    Map<String, Long> index = new TreeMap<>();
                    for (int i = 0; i < classes.size(); i++) index.put(classes.get(i), (long) i);
                    long[] y = new long[n];
                    for (int r = 0; r < n; r++) y[r] = index.get(body.get(r)[label].strip());
                    yield new CsvDataset(features, Tensor.of(y, n), featureNames, classes);
                }
            };
        }

        private static float number(String cell, String what, int line, String column) {
            String c = cell.strip();
            try {
                if (c.isEmpty()) throw new NumberFormatException();
                return Float.parseFloat(c);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(what + " line " + line + ", column '" + column + "': " + (c.isEmpty() ? "the cell is empty" : "'" + c + "' is not a number"));
            }
        }

        private static List<String> numbered(int width) {
            List<String> names = new ArrayList<>();
            for (int i = 0; i < width; i++) names.add("column " + i);
            return names;
        }
    }

    /** Splits RFC 4180 records (a quoted field may hold delimiters, quotes as "" and line breaks). */
    static final class CsvRows {
        private final Reader in;
        private final char delimiter;
        private final String what;
        private int line = 0, nextLine = 1, firstRecordLine = -1;

        CsvRows(Reader in, char delimiter, String what) {
            this.in = in;
            this.delimiter = delimiter;
            this.what = what;
        }

        /** The line the last record started on (1-based). */
        int line() { return line; }

        List<String> next() throws IOException {
            int c = in.read();
            if (c == '\uFEFF' && firstRecordLine < 0) c = in.read(); // a UTF-8 byte order mark before the first record
            if (c < 0) return null;
            line = nextLine;
            if (firstRecordLine < 0) firstRecordLine = line;
            List<String> fields = new ArrayList<>();
            StringBuilder field = new StringBuilder();
            boolean quoted = false, wasQuoted = false;
            while (true) {
                if (c < 0) {
                    if (quoted) throw new IllegalArgumentException(what + " line " + line + ": a quoted field is not closed before the end of the file");
                    fields.add(field.toString());
                    return fields;
                }
                char ch = (char) c;
                if (quoted) {
                    if (ch == '"') {
                        int d = in.read();
                        if (d == '"') field.append('"');
                        else {
                            quoted = false;
                            c = d;
                            continue;
                        }
                    } else {
                        if (ch == '\n') nextLine++;
                        field.append(ch);
                    }
                } else if (ch == '"' && field.length() == 0 && !wasQuoted) {
                    quoted = wasQuoted = true;
                } else if (ch == delimiter) {
                    fields.add(field.toString());
                    field.setLength(0);
                    wasQuoted = false;
                } else if (ch == '\n' || ch == '\r') {
                    if (ch == '\r') {
                        int d = in.read();
                        if (d != '\n' && d >= 0) throw new IllegalArgumentException(what + " line " + line + ": a carriage return without a line feed");
                    }
                    nextLine++;
                    fields.add(field.toString());
                    return fields;
                } else if (wasQuoted) {
                    throw new IllegalArgumentException(what + " line " + line + ": text after a closing quote in field " + (fields.size() + 1));
                } else {
                    field.append(ch);
                }
                c = in.read();
            }
        }
    }

    @Override
    public int size() { return features.shape(0); }

    @Override
    public List<Tensor> get(int index) {
        Dataset.checkIndex(index, size());
        return List.of(features.select(0, index), labels.select(0, index));
    }

    /** All rows' features, f32[N, F]. */
    public Tensor features() { return features; }

    /** All rows' labels, i64[N] (classes, integers) or f32[N] (numbers). */
    public Tensor labels() { return labels; }

    public List<String> featureNames() { return featureNames; }

    /** The class names, index i being class i (empty unless the label kind is CLASS). */
    public List<String> classes() { return classes; }

    @Override
    public String toString() {
        return "CsvDataset(" + size() + " rows, features " + featureNames + (classes.isEmpty() ? "" : ", classes " + classes) + ")";
    }

    /** Visible for tests: the records of a CSV text. */
    static List<List<String>> records(String text, char delimiter) throws IOException {
        CsvRows rows = new CsvRows(new java.io.StringReader(text), delimiter, "text");
        List<List<String>> out = new ArrayList<>();
        for (List<String> r; (r = rows.next()) != null; ) out.add(r);
        return out;
    }
}
