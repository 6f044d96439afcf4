package dev.kiln.examples.gpt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * The character-level corpus of ../shared/bench/torch_gpt.py: the files of Debian's fortunes
 * package in sorted name order (skipping the .dat and .u8 indexes), read as UTF-8 with invalid
 * bytes replaced, concatenated; the vocabulary is the sorted set of code points; the first 90%
 * trains and the last 10% validates.
 */
public final class CharCorpus {
    public static final Path DEBIAN_DIR = Path.of("/usr/share/games/fortunes");

    /** A few lines in the fortunes style, so the demo still runs (poorly) without the package. */
    static final String BUILT_IN = String.join("\n", List.of(
            "A journey of a thousand miles begins with a single step.", "%",
            "The best way to predict the future is to invent it.", "%",
            "Simplicity is prerequisite for reliability.", "%",
            "Premature optimization is the root of all evil.", "%",
            "There are only two hard things in computer science: cache invalidation and naming things.", "%",
            "Programs must be written for people to read, and only incidentally for machines to execute.", "%",
            "The cheapest, fastest, and most reliable components are those that aren't there.", "%",
            "Any sufficiently advanced technology is indistinguishable from magic.", "%",
            "Measuring programming progress by lines of code is like measuring aircraft building progress by weight.", "%",
            "If debugging is the process of removing bugs, then programming must be the process of putting them in.", "%", ""));

    public final String source;
    /** code point of each token id, ascending */
    public final int[] vocab;
    public final long[] train, val;

    private CharCorpus(String source, String text) {
        this.source = source;
        int[] cps = text.codePoints().toArray();
        vocab = Arrays.stream(cps).distinct().sorted().toArray();
        long[] ids = new long[cps.length];
        for (int i = 0; i < cps.length; i++) ids[i] = Arrays.binarySearch(vocab, cps[i]);
        int n = (int) (0.9 * ids.length);
        train = Arrays.copyOfRange(ids, 0, n);
        val = Arrays.copyOfRange(ids, n, ids.length);
    }

    /** The fortunes under {@code dir} ({@link #DEBIAN_DIR} when null), or the built-in text when there are none. */
    public static CharCorpus load(Path dir) throws IOException {
        String env = System.getenv("FORTUNES"); // torch_gpt.py's override
        Path d = dir != null ? dir : env != null && !env.isEmpty() ? Path.of(env) : DEBIAN_DIR;
        if (!Files.isDirectory(d)) return new CharCorpus("built-in text (" + d + " not found: apt-get install -y fortunes)", BUILT_IN.repeat(40));
        List<Path> files;
        try (Stream<Path> s = Files.list(d)) {
            // glob("*") skips dotfiles
            files = s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(p -> !p.toString().endsWith(".dat") && !p.toString().endsWith(".u8"))
                    .sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString())).toList();
        }
        if (files.isEmpty()) return new CharCorpus("built-in text (no fortune files in " + d + ")", BUILT_IN.repeat(40));
        StringBuilder text = new StringBuilder();
        for (Path f : files) {
            // as Python's open(..., errors="replace"): undecodable bytes become U+FFFD
            String t = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE).decode(ByteBuffer.wrap(Files.readAllBytes(f))).toString();
            text.append(t.replace("\r\n", "\n").replace('\r', '\n')); // Python's text mode: universal newlines
        }
        if (text.codePoints().count() < 10L * 130) {
            throw new IllegalArgumentException("gpt demo: the corpus in " + d + " has " + text.codePoints().count()
                    + " characters; it needs at least 1,300 (a validation tenth longer than the context)");
        }
        return new CharCorpus(d + " (" + files.size() + " files, " + text.codePoints().count() + " characters)", text.toString());
    }

    public int vocabSize() { return vocab.length; }

    public long encode(int codePoint) {
        int i = Arrays.binarySearch(vocab, codePoint);
        if (i < 0) throw new IllegalArgumentException("character U+" + Integer.toHexString(codePoint) + " is not in the vocabulary");
        return i;
    }

    public String decode(long[] ids) {
        StringBuilder s = new StringBuilder();
        for (long id : ids) s.appendCodePoint(vocab[(int) id]);
        return s.toString();
    }
}
