package dev.kiln.serve;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One JSON line per answered request ({@code --access-log FILE}, or {@code -} for standard
 * output): time, client address, method, path and query, status, bytes in and out, the time
 * from the complete request to the written answer's hand-off, and the model and version that
 * answered. JSON rather than the Common Log Format so that a path or a model name can hold any
 * character (escaped, never raw control characters) and tools read fields by name. Lines are
 * buffered and flushed every second and at shutdown; a line is never dropped, a request waits
 * for the lock instead.
 */
final class AccessLog implements AutoCloseable {
    private static final JsonFactory JSON = new JsonFactory();
    private final Writer out;
    private final boolean closeOut;
    private final ScheduledExecutorService flusher = Executors.newSingleThreadScheduledExecutor(DynamicBatcher.daemon("kiln-access-log"));
    private boolean failed;

    private AccessLog(Writer out, boolean closeOut) {
        this.out = out;
        this.closeOut = closeOut;
        flusher.scheduleWithFixedDelay(this::flush, 1, 1, TimeUnit.SECONDS);
    }

    /** {@code -} is standard output; a file is appended to (created if missing). */
    static AccessLog open(String target) throws IOException {
        if (target.equals("-")) return new AccessLog(new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8)), false);
        Path p = Path.of(target);
        return new AccessLog(Files.newBufferedWriter(p, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE), true);
    }

    /** An entry; {@code model} and {@code version} are null when no model answered. */
    void log(String remote, String method, String uri, int status, long bytesIn, long bytesOut, long nanos, String model, String version) {
        StringWriter line = new StringWriter(160);
        try (JsonGenerator g = JSON.createGenerator(line)) {
            g.writeStartObject();
            g.writeStringField("time", Instant.now().toString());
            g.writeStringField("remote", remote);
            g.writeStringField("method", method);
            g.writeStringField("uri", uri);
            g.writeNumberField("status", status);
            g.writeNumberField("bytes_in", bytesIn);
            g.writeNumberField("bytes_out", bytesOut);
            g.writeNumberField("ms", Math.round(nanos / 1e4) / 100.0);
            if (model != null) {
                g.writeStringField("model", model);
                g.writeStringField("version", version);
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException(e); // a StringWriter does not fail
        }
        // JSON escapes control characters below 0x20; DEL and the C1 controls are escaped too, so a
        // terminal tailing the log shows no raw control sequence
        String text = escapeOtherControls(line.toString());
        synchronized (this) {
            try {
                out.write(text);
                out.write('\n');
            } catch (IOException e) {
                reportOnce(e);
            }
        }
    }

    private static String escapeOtherControls(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean control = c == 0x7f || (c >= 0x80 && c <= 0x9f);
            if (control && b == null) b = new StringBuilder(s.substring(0, i));
            if (b != null) {
                if (control) b.append(String.format("\\u%04x", (int) c));
                else b.append(c);
            }
        }
        return b == null ? s : b.toString();
    }

    synchronized void flush() {
        try {
            out.flush();
        } catch (IOException e) {
            reportOnce(e);
        }
    }

    private void reportOnce(IOException e) {
        if (failed) return;
        failed = true;
        System.err.println("kiln serve: the access log cannot be written: " + e.getMessage());
    }

    @Override
    public void close() {
        flusher.shutdownNow();
        flush();
        if (closeOut) {
            synchronized (this) {
                try {
                    out.close();
                } catch (IOException e) {
                    reportOnce(e);
                }
            }
        }
    }
}
