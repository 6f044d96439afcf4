package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo is reproducible: the same seed gives bit-identical per-epoch training losses, test
 * accuracies and confusion matrices in every run and for every thread count. A shortened run
 * (2,048 training images, 2 epochs, then the deployment stage) in three child JVMs at once, with
 * kiln.threads 1, 2 and 4. Uses Fashion-MNIST when installed, else the demo's synthetic set.
 */
class DemoReproducibilityTest {
    private static final Pattern EPOCH = Pattern.compile("\"train_loss\": ([^,]+), .*\"test_acc\": ([0-9.]+)");

    /** Runs the demo with the given arguments (the child JVM's entry point). */
    public static void main(String[] args) throws Exception { FashionMnistDemo.run(args, System.out); }

    @TempDir
    Path dir;

    @Test
    void sameSeedSameBitsForAnyThreadCount() throws Exception {
        Map<Integer, Process> children = new LinkedHashMap<>();
        for (int threads : new int[] {1, 2, 4}) {
            Path ckpt = dir.resolve("t" + threads).resolve("lenet.ckpt");
            java.nio.file.Files.createDirectories(ckpt.getParent());
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-modules", "jdk.incubator.vector", "-Xmx2g", "-Dkiln.threads=" + threads,
                    "-cp", System.getProperty("java.class.path"), DemoReproducibilityTest.class.getName(),
                    "--limit", "2048", "--epochs", "2", "--seed", "11", "--checkpoint", ckpt.toString()));
            // output to a file: a pipe nobody drains would fill up and stall the child
            children.put(threads, new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ckpt.resolveSibling("out.log").toFile()).start());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(900);
        Map<Integer, String> results = new LinkedHashMap<>();
        for (var e : children.entrySet()) {
            Process p = e.getValue();
            boolean done = p.waitFor(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (!done) p.destroyForcibly();
            String out = java.nio.file.Files.readString(dir.resolve("t" + e.getKey()).resolve("out.log"), StandardCharsets.UTF_8);
            assertTrue(done && p.exitValue() == 0, e.getKey() + " threads: the demo failed:\n" + out);
            results.put(e.getKey(), summary(out));
        }
        String first = results.get(1);
        assertFalse(first.isEmpty());
        for (var e : results.entrySet()) assertEquals(first, e.getValue(), e.getKey() + " threads give other results than 1 thread");
    }

    /** Per-epoch losses and accuracies, and the final confusion matrix. */
    static String summary(String out) {
        StringBuilder sb = new StringBuilder();
        Matcher m = EPOCH.matcher(out);
        int epochs = 0;
        while (m.find()) {
            sb.append("loss ").append(m.group(1)).append(" acc ").append(m.group(2)).append('\n');
            epochs++;
        }
        assertEquals(2, epochs, "two epoch lines expected in\n" + out);
        int cm = out.indexOf("test set confusion matrix");
        int end = out.indexOf("test accuracy", cm);
        assertTrue(cm >= 0 && end > cm, "no confusion matrix in\n" + out);
        return sb.append(out, cm, end).toString();
    }
}
