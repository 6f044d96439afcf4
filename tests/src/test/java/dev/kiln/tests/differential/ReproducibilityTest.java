package dev.kiln.tests.differential;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The same seed gives the same bits whatever the thread count and however far the JIT has come.
 * Child JVMs run {@link ReproducibleWorkload} with {@code kiln.threads} 1, 2 and 4, with C2
 * (each child's first run is mostly interpreted, its last C2-compiled) and with C1 only (where
 * the Vector API runs its Java fallbacks, not its intrinsics); all of them at once, so the
 * machine is busy and the JIT's timing varies. Every digest must be the same.
 *
 * <p>{@code -Dkiln.test.xint=true} adds an interpreter-only child ({@code -Xint}, ~2 minutes on
 * two cores, too slow for every build).
 */
class ReproducibilityTest {
    private static final Pattern RESULT = Pattern.compile("cold=([0-9a-f]{64}) warm=([0-9a-f]{64})");

    @Test
    void digestsAgreeAcrossThreadCountsAndJitStates() throws Exception {
        Map<String, List<String>> configs = new LinkedHashMap<>();
        configs.put("1 thread", List.of("-Dkiln.threads=1"));
        configs.put("2 threads", List.of("-Dkiln.threads=2"));
        configs.put("4 threads", List.of("-Dkiln.threads=4"));
        configs.put("C1 only, 2 threads", List.of("-XX:TieredStopAtLevel=1", "-Dkiln.threads=2"));
        if (Boolean.getBoolean("kiln.test.xint")) configs.put("interpreter only", List.of("-Xint", "-Dkiln.threads=2"));

        Map<String, Process> running = new LinkedHashMap<>();
        Map<String, Path> logs = new LinkedHashMap<>();
        for (var e : configs.entrySet()) {
            Path log = Files.createTempFile("kiln-repro", ".log");
            logs.put(e.getKey(), log);
            running.put(e.getKey(), start(e.getValue(), e.getKey().startsWith("interpreter") ? 1 : 3, log));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(900);
        Map<String, String> digests = new LinkedHashMap<>();
        for (var e : running.entrySet()) {
            Process p = e.getValue();
            boolean done = p.waitFor(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (!done) p.destroyForcibly();
            String out = Files.readString(logs.get(e.getKey()), StandardCharsets.UTF_8);
            Files.deleteIfExists(logs.get(e.getKey()));
            assertTrue(done && p.exitValue() == 0, e.getKey() + ": the child JVM failed:\n" + out);
            Matcher m = RESULT.matcher(out);
            assertTrue(m.find(), e.getKey() + ": no digest in\n" + out);
            digests.put(e.getKey() + " (cold)", m.group(1));
            digests.put(e.getKey() + " (warm)", m.group(2));
        }
        String first = digests.values().iterator().next();
        for (var e : digests.entrySet()) assertEquals(first, e.getValue(), e.getKey() + " differs: " + digests);
    }

    /** The child's output goes to a file: a pipe nobody drains fills up and stalls the child. */
    private static Process start(List<String> jvmArgs, int runs, Path log) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "--add-modules", "jdk.incubator.vector", "-Xmx1g"));
        cmd.addAll(jvmArgs);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ReproducibleWorkload.class.getName(), Integer.toString(runs)));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }
}
