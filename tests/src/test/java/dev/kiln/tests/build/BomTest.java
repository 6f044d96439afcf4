package dev.kiln.tests.build;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.backend.KilnVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The BOM has no parent (so it pins no third-party versions), hence repeats the version: it must
 * equal the parent's, and list every module a user can depend on.
 */
class BomTest {
    static final Path ROOT = Path.of("..");
    /** Built but not published for users: benchmarks and the test suite. */
    static final List<String> INTERNAL = List.of("kiln-benchmarks", "kiln-tests", "kiln-bom");

    @Test
    void theBomHasTheBuildsVersionAndEveryPublishedModule() throws IOException {
        String bom = Files.readString(ROOT.resolve("bom/pom.xml"));
        Matcher version = Pattern.compile("<artifactId>kiln-bom</artifactId>\\s*<version>([^<]+)</version>").matcher(bom);
        version.find();
        assertEquals(KilnVersion.VERSION, version.group(1), "bom/pom.xml's version");
        TreeSet<String> managed = new TreeSet<>();
        Matcher m = Pattern.compile("<artifactId>(kiln-[a-z-]+)</artifactId><version>\\$\\{project.version}</version>").matcher(bom);
        while (m.find()) managed.add(m.group(1));
        TreeSet<String> modules = new TreeSet<>();
        Matcher mod = Pattern.compile("<module>([^<]+)</module>").matcher(Files.readString(ROOT.resolve("pom.xml")));
        List<String> dirs = new ArrayList<>();
        while (mod.find()) dirs.add(mod.group(1));
        for (String d : dirs) {
            Matcher a = Pattern.compile("</parent>\\s*<artifactId>([^<]+)</artifactId>").matcher(Files.readString(ROOT.resolve(d).resolve("pom.xml")));
            if (a.find() && !INTERNAL.contains(a.group(1))) modules.add(a.group(1));
        }
        assertEquals(modules, managed, "the published modules (pom.xml) and the BOM's entries");
    }
}
