package dev.kiln.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files within the loader's limits must not run it out of memory: at -Xmx512m a 100 MB JSON
 * string and a 2 GiB (sparse) safetensors tensor, both under the old fixed limits, end in a clean
 * error naming the limit, since the limits now follow the heap (LoadLimits.forHeap).
 */
class HeapBudgetTest {
    @TempDir
    Path dir;

    /** Child JVM entry point: loads args[1] as args[0] ("artifact" or "safetensors"); exit 2 with the message on a format error. */
    public static void main(String[] args) throws IOException {
        try {
            if (args[0].equals("artifact")) KilnReader.read(Path.of(args[1]));
            else Safetensors.read(Path.of(args[1]));
            System.out.println("loaded");
        } catch (KilnFormatException e) {
            System.out.println("kiln: " + e.getMessage());
            System.exit(2);
        }
    }

    @Test
    void aHundredMegabyteStringIsRefusedBeforeItIsRead() throws Exception {
        Path f = dir.resolve("big.kiln.json");
        try (Writer w = Files.newBufferedWriter(f, StandardCharsets.UTF_8)) {
            w.write("{\"format\": \"kiln-graph\", \"version\": \"1.1\", \"producer\": \"");
            char[] chunk = new char[1 << 20];
            java.util.Arrays.fill(chunk, 'a');
            for (int i = 0; i < 100; i++) w.write(chunk);
            w.write("\"}");
        }
        String out = runAt512m("artifact", f);
        assertTrue(out.contains("kiln: ") && out.contains("limit of") && out.contains("-Xmx"), out);
    }

    @Test
    void aTwoGibibyteSparseTensorIsRefusedBeforeItIsRead() throws Exception {
        Path f = dir.resolve("big.safetensors");
        long bytes = 1L << 31;
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[" + (bytes / 4) + "],\"data_offsets\":[0," + bytes + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length);
            raf.write(len.array());
            raf.write(h);
            raf.setLength(8 + h.length + bytes); // sparse: no disk is written for the data
        }
        String out = runAt512m("safetensors", f);
        assertTrue(out.contains("kiln: ") && out.contains("limit of") && out.contains("-Xmx"), out);
    }

    private static String runAt512m(String kind, Path file) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path log = Files.createTempFile("kiln-heap", ".log");
        Process p = new ProcessBuilder(List.of(java.toString(), "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                HeapBudgetTest.class.getName(), kind, file.toString())).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly();
        String out = Files.readString(log);
        Files.deleteIfExists(log);
        assertTrue(done, "the child did not finish:\n" + out);
        assertTrue(!out.contains("OutOfMemoryError"), out);
        assertEquals(2, p.exitValue(), out);
        return out;
    }
}
