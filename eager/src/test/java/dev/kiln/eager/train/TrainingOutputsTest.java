package dev.kiln.eager.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The metrics logger's files, the SVG chart (well-formed, one line per series) and the progress bar's lines. */
class TrainingOutputsTest {
    @TempDir
    Path dir;

    static Map<String, Number> row(Object... kv) {
        Map<String, Number> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], (Number) kv[i + 1]);
        return m;
    }

    @Test
    void metricsAreWrittenAsJsonLinesAndOneCsvPerPhase() throws Exception {
        try (MetricsLogger log = MetricsLogger.open(dir.resolve("run"))) {
            log.log("step", row("step", 1, "loss", 2.5));
            log.log("step", row("step", 2, "loss", 0.1 + 0.2));
            log.log("epoch", row("epoch", 1, "test_acc", 0.75, "lr", Double.NaN));
            log.log("step", row("step", 3)); // a missing value is an empty cell
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> log.log("step", row("step", 4, "grad_norm", 1.0)));
            assertTrue(e.getMessage().contains("'grad_norm' is new in phase step"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> log.log("epoch", row("bad\tname", 1)));
            assertTrue(e.getMessage().contains("without control characters"), e.getMessage());
            assertArrayEquals(new double[] {2.5, 0.30000000000000004}, log.series("step", "step", "loss")[1]);
        }
        assertEquals(List.of("step,loss", "1,2.5", "2,0.30000000000000004", "3,"), Files.readAllLines(dir.resolve("run/step.csv")));
        assertEquals(List.of("epoch,test_acc,lr", "1,0.75,nan"), Files.readAllLines(dir.resolve("run/epoch.csv")));
        List<String> jsonl = Files.readAllLines(dir.resolve("run/metrics.jsonl"));
        assertEquals(4, jsonl.size());
        assertEquals("{\"phase\":\"epoch\",\"epoch\":1,\"test_acc\":0.75,\"lr\":\"NaN\"}", jsonl.get(2));
    }

    @Test
    void theChartIsWellFormedSvgWithALinePerSeries() throws Exception {
        Path svg = dir.resolve("curves.svg");
        LineChart.write(svg,
                new LineChart("loss <train & test>", "step", "loss").series("train", new double[] {1, 2, 3, 4}, new double[] {2.3, 1.1, Double.NaN, 0.4})
                        .series("test", new double[] {4}, new double[] {0.5}),
                new LineChart("accuracy", "epoch", "").series("test", new double[] {1, 2, 3}, new double[] {0.8, 0.85, 0.87}));
        var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(svg.toFile()); // throws on malformed XML
        assertEquals("svg", doc.getDocumentElement().getTagName());
        // the NaN breaks the train line in two; a one-point stretch is a line of one point and a dot
        assertEquals(2 + 1 + 1, doc.getElementsByTagName("polyline").getLength());
        assertEquals(2, doc.getElementsByTagName("circle").getLength());
        assertTrue(Files.readString(svg).contains("loss &lt;train &amp; test&gt;"));
        assertArrayEquals(new double[] {0, 0.5, 1, 1.5, 2, 2.5}, LineChart.ticks(0.4, 2.3), 1e-12);
    }

    @Test
    void theProgressBarPrintsEveryTenthWhenNotOnATerminal() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), "epoch 1/1", 100, "img", false);
        for (int i = 1; i <= 100; i++) bar.update(i, i * 64L, "loss 0.5");
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(11, lines.size(), String.join("\n", lines)); // steps 1 (0%), 10, 20, ..., 100
        assertTrue(lines.get(10).startsWith("epoch 1/1 [########################] 100/100  loss 0.5") && lines.get(10).contains("img/s  took"), lines.get(10));
    }
}
