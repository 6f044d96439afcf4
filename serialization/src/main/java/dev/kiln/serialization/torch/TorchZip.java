package dev.kiln.serialization.torch;

import dev.kiln.serialization.KilnFormatException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * The zip archive torch.save writes since PyTorch 1.6: one top-level folder holding
 * {@code data.pkl} (the pickled object), {@code data/<key>} (one raw little-endian storage per
 * key), {@code version} and, in newer releases, {@code byteorder}. Entries are only read, never
 * extracted, and every read is bounded before it allocates: a declared or actual size above the
 * limit (a zip bomb) stops it. Names with {@code ..}, absolute paths, backslashes or duplicates
 * are refused, so nothing in the archive can stand for something else.
 */
final class TorchZip implements Closeable {
    private static final byte[] ZIP_MAGIC = {'P', 'K', 3, 4};
    private final ZipFile zip;
    private final String prefix;
    final String what;

    private TorchZip(ZipFile zip, String prefix, String what) {
        this.zip = zip;
        this.prefix = prefix;
        this.what = what;
    }

    static TorchZip open(Path path) throws IOException {
        String what = path.getFileName().toString();
        byte[] head = new byte[4];
        int n;
        try (InputStream in = Files.newInputStream(path)) {
            n = in.readNBytes(head, 0, 4);
        }
        if (n >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5) {
            throw KilnFormatException.at(what, "this is the legacy torch.save format (PyTorch before 1.6, or _use_new_zipfile_serialization=False),"
                    + " which Kiln does not read; in PyTorch, torch.save(torch.load(f), g) writes it in the zip format");
        }
        if (n < 4 || !java.util.Arrays.equals(head, ZIP_MAGIC)) {
            throw KilnFormatException.at(what, "not a PyTorch file: torch.save writes a zip archive (starting with PK\\3\\4), this file starts with "
                    + hex(head, n));
        }
        ZipFile zip;
        try {
            zip = new ZipFile(path.toFile(), StandardCharsets.UTF_8);
        } catch (ZipException e) {
            throw KilnFormatException.at(what, "not a readable zip archive: " + e.getMessage());
        }
        try {
            return new TorchZip(zip, checkLayout(zip, what), what);
        } catch (RuntimeException e) {
            zip.close();
            throw e;
        }
    }

    /** Validates every name and returns the archive's top-level folder with its slash. */
    private static String checkLayout(ZipFile zip, String what) {
        String prefix = null;
        Set<String> names = new HashSet<>();
        boolean torchScript = false;
        Enumeration<? extends ZipEntry> all = zip.entries();
        while (all.hasMoreElements()) {
            String name = all.nextElement().getName();
            String shown = "entry '" + name + "'";
            if (!names.add(name)) throw KilnFormatException.at(what, shown + " appears twice in the archive");
            if (name.startsWith("/") || name.contains("\\") || name.indexOf('\0') >= 0 || name.contains(":"))
                throw KilnFormatException.at(what, shown + " is not a relative archive path");
            for (String part : name.split("/", -1)) {
                if (part.equals("..") || part.equals(".")) throw KilnFormatException.at(what, shown + " contains a '" + part + "' path segment");
            }
            int slash = name.indexOf('/');
            if (slash <= 0) throw KilnFormatException.at(what, shown + " is outside the archive's top-level folder");
            String top = name.substring(0, slash + 1);
            if (prefix == null) prefix = top;
            else if (!prefix.equals(top)) throw KilnFormatException.at(what, "entries lie in two top-level folders, '" + prefix + "' and '" + top + "'");
            String rest = name.substring(slash + 1);
            if (rest.equals("constants.pkl") || rest.startsWith("code/")) torchScript = true;
        }
        if (prefix == null) throw KilnFormatException.at(what, "the zip archive is empty");
        if (torchScript) {
            throw KilnFormatException.at(what, "this is a TorchScript archive (torch.jit.save), which holds code; Kiln reads weights only:"
                    + " in PyTorch, torch.save(torch.jit.load(f).state_dict(), g) writes them");
        }
        if (!names.contains(prefix + "data.pkl")) throw KilnFormatException.at(what, "no '" + prefix + "data.pkl' entry: not a torch.save archive");
        return prefix;
    }

    /** Whether the archive has {@code <folder>/<relName>}. */
    boolean has(String relName) { return zip.getEntry(prefix + relName) != null; }

    /** The name a storage's or the pickle's entry has, for errors. */
    String nameOf(String relName) { return prefix + relName; }

    /**
     * Reads {@code <folder>/<relName>}, refusing (before allocating) anything above
     * {@code maxBytes}, whatever the entry declares.
     */
    byte[] read(String relName, long maxBytes, String hint) throws IOException {
        ZipEntry e = zip.getEntry(prefix + relName);
        if (e == null) throw KilnFormatException.at(what, "entry '" + prefix + relName + "' is missing");
        long cap = Math.min(maxBytes, Integer.MAX_VALUE - 16); // one Java array
        if (e.getSize() > cap) {
            throw KilnFormatException.at(what, "entry '" + e.getName() + "' declares " + e.getSize() + " bytes, more than the limit of " + cap + hint);
        }
        try (InputStream in = zip.getInputStream(e)) {
            if (e.getSize() >= 0) {
                // the central directory's size; the data must match it exactly
                byte[] data = in.readNBytes((int) e.getSize());
                if (data.length < e.getSize()) throw KilnFormatException.at(what, "entry '" + e.getName() + "' ends after " + data.length + " of its " + e.getSize() + " bytes");
                if (in.read() >= 0) throw KilnFormatException.at(what, "entry '" + e.getName() + "' holds more than the " + e.getSize() + " bytes it declares");
                return data;
            }
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[1 << 16];
            int r;
            while ((r = in.read(buf)) > 0) {
                if (out.size() + (long) r > cap) throw KilnFormatException.at(what, "entry '" + e.getName() + "' inflates to more than " + cap + " bytes" + hint);
                out.write(buf, 0, r);
            }
            return out.toByteArray();
        } catch (ZipException | java.io.EOFException ex) { // a damaged archive, not a failing disk
            throw KilnFormatException.at(what, "entry '" + e.getName() + "' cannot be read: " + ex);
        }
    }

    private static String hex(byte[] b, int n) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) s.append(String.format("%02x ", b[i] & 0xff));
        return n == 0 ? "nothing (the file is empty)" : s.toString().trim();
    }

    @Override
    public void close() throws IOException { zip.close(); }
}
