package dev.kiln.backend;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * Kiln's version, written once in the parent POM and carried here by resource filtering: the CLI's
 * {@code --version}, the producer of saved artifacts and the version servers report all read it.
 */
public final class KilnVersion {
    /** {@code 0.1.0-SNAPSHOT}, say; "unknown" if the build did not filter the resource (an IDE running from sources). */
    public static final String VERSION = read();

    private KilnVersion() {}

    private static String read() {
        try (InputStream in = KilnVersion.class.getResourceAsStream("kiln-version.properties")) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown");
            return v.startsWith("${") ? "unknown" : v;
        } catch (IOException e) {
            return "unknown";
        }
    }
}
