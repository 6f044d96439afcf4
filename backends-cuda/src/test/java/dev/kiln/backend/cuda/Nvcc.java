package dev.kiln.backend.cuda;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Test helper: finds nvcc and compiles CUDA C text to PTX, as NVRTC does at run time. */
final class Nvcc {
    private Nvcc() {}

    /** nvcc from PATH, then the usual install folder; null when there is none. */
    static Path find() {
        String path = System.getenv("PATH");
        List<String> dirs = new ArrayList<>(path == null ? List.of() : List.of(path.split(File.pathSeparator)));
        dirs.add("/usr/local/cuda/bin");
        for (String d : dirs) {
            Path p = Path.of(d, "nvcc");
            if (Files.isExecutable(p)) return p;
        }
        return null;
    }

    record Result(int exitCode, String output, String ptx) {}

    /** nvcc -ptx with the C++ dialect NVRTC is given; the source goes through a temp file. */
    static Result compile(Path nvcc, Path dir, String name, String source) throws IOException, InterruptedException {
        Path cu = dir.resolve(name.endsWith(".cu") ? name : name + ".cu");
        Path ptx = dir.resolve(cu.getFileName() + ".ptx");
        Files.writeString(cu, source, StandardCharsets.UTF_8);
        Process p = new ProcessBuilder(nvcc.toString(), "-ptx", "--std=c++14", cu.toString(), "-o", ptx.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("nvcc timed out on " + name);
        }
        return new Result(p.exitValue(), out, Files.exists(ptx) ? Files.readString(ptx) : "");
    }

    private static final Pattern KERNEL = Pattern.compile("extern \"C\" __global__ void (?:__launch_bounds__\\([^)]*\\) )?(\\w+)\\(");

    /** Kernel names declared without macros (macro-made names are checked by count instead). */
    static List<String> plainKernelNames(String source) {
        List<String> names = new ArrayList<>();
        Matcher m = KERNEL.matcher(source);
        while (m.find()) names.add(m.group(1));
        return names;
    }

    static int entryCount(String ptx) {
        int n = 0;
        for (String line : ptx.split("\n")) if (line.contains(".entry ")) n++;
        return n;
    }
}
