package dev.kiln.eager.data;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.data.IdxFile.IdxType;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.StringJoiner;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files (MNIST, Fashion-MNIST), raw or gzip-compressed (detected by content, not
 * by name). Files are untrusted: the magic number, type code and dims are validated, and the
 * declared size is checked (overflow-safe) before the data buffer is allocated; a gzip stream
 * is read in growing chunks, so a header that lies about a huge size cannot make us allocate
 * it. Every error names the file and what is wrong.
 */
public final class IdxReader {
    private static final int CHUNK = 1 << 20;

    private IdxReader() {}

    public static IdxFile read(Path file) throws IOException {
        String name = file.getFileName().toString();
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
            raw.mark(2);
            boolean gzip = raw.read() == 0x1f & raw.read() == 0x8b; // '&': both bytes are consumed before reset()
            raw.reset();
            long knownDataBytes = gzip ? -1 : Files.size(file);
            try (InputStream in = gzip ? new GZIPInputStream(raw, 1 << 16) : raw) {
                return read(name, in, knownDataBytes);
            } catch (ZipException e) {
                throw new IdxFormatException(name + ": corrupt gzip stream: " + e.getMessage());
            }
        }
    }

    /** Images [N, H, W] of unsigned bytes as float32 [N, 1, H, W] scaled to [0, 1]. */
    public static Tensor readImages(Path file) throws IOException {
        IdxFile f = read(file);
        if (f.type() != IdxType.UBYTE || f.dims().length != 3) {
            throw new IdxFormatException(file.getFileName() + ": expected images (unsigned bytes, 3 dims N x H x W), got " + f.type() + " with dims " + dimsText(f.dims()));
        }
        int[] d = f.dims();
        return f.toFloatTensor(1.0 / 255, d[0], 1, d[1], d[2]);
    }

    /** Labels [N] of unsigned bytes as int64. */
    public static Tensor readLabels(Path file) throws IOException {
        IdxFile f = read(file);
        if (f.type() != IdxType.UBYTE || f.dims().length != 1) {
            throw new IdxFormatException(file.getFileName() + ": expected labels (unsigned bytes, 1 dim), got " + f.type() + " with dims " + dimsText(f.dims()));
        }
        return f.toTensor();
    }

    /** {@code fileBytes}: the stream's total length when known (raw files), else -1. */
    static IdxFile read(String name, InputStream in, long fileBytes) throws IOException {
        byte[] magic = readFully(name, in, 4, "magic number");
        if (magic[0] != 0 || magic[1] != 0) {
            throw new IdxFormatException(name + ": not an IDX file: magic number 0x" + hex(magic)
                    + " (expected two zero bytes, a type code and the number of dims, e.g. 0x00000803)");
        }
        IdxType type = IdxType.ofCode(magic[2] & 0xFF);
        if (type == null) {
            throw new IdxFormatException(name + ": unknown IDX data type code 0x" + String.format("%02x", magic[2] & 0xFF) + " in magic number 0x" + hex(magic)
                    + " (known: 08 ubyte, 09 byte, 0b short, 0c int, 0d float, 0e double)");
        }
        int rank = magic[3] & 0xFF;
        if (rank == 0) throw new IdxFormatException(name + ": magic number 0x" + hex(magic) + " declares 0 dimensions");
        byte[] dimBytes = readFully(name, in, 4 * rank, "header (" + rank + " dimension sizes)");
        int[] dims = new int[rank];
        long elements = 1;
        for (int i = 0; i < rank; i++) {
            long d = Integer.toUnsignedLong(((dimBytes[4 * i] & 0xFF) << 24) | ((dimBytes[4 * i + 1] & 0xFF) << 16) | ((dimBytes[4 * i + 2] & 0xFF) << 8) | (dimBytes[4 * i + 3] & 0xFF));
            if (d > Integer.MAX_VALUE) throw new IdxFormatException(name + ": dimension " + i + " is " + d + ", larger than the supported maximum " + Integer.MAX_VALUE);
            dims[i] = (int) d;
            elements *= d; // both factors are below 2^31 and the product is bounded below, so this cannot overflow
            if (elements > Integer.MAX_VALUE / type.size) {
                throw new IdxFormatException(name + ": header declares " + dimsText(Arrays.copyOf(dims, i + 1)) + (i + 1 < rank ? "x..." : "")
                        + " elements, more than the " + Integer.MAX_VALUE + " bytes one tensor can hold");
            }
        }
        int dataBytes = (int) (elements * type.size);
        String declared = "header declares " + dimsText(dims) + (type.size == 1 ? "" : " " + type.name().toLowerCase() + " values")
                + " = " + dataBytes + " bytes of data";
        long headerBytes = 4 + 4L * rank;
        if (fileBytes >= 0 && fileBytes - headerBytes != dataBytes) {
            long has = fileBytes - headerBytes;
            throw new IdxFormatException(name + ": " + (has < dataBytes ? "truncated" : "trailing data") + ": " + declared + ", file has " + has);
        }
        byte[] data = readData(name, in, dataBytes, declared);
        return new IdxFile(type, dims, data);
    }

    private static byte[] readData(String name, InputStream in, int dataBytes, String declared) throws IOException {
        byte[] buf = new byte[Math.min(dataBytes, CHUNK)];
        int filled = 0;
        try {
            while (filled < dataBytes) {
                if (filled == buf.length) buf = Arrays.copyOf(buf, (int) Math.min(dataBytes, 2L * buf.length));
                int n = in.read(buf, filled, buf.length - filled);
                if (n < 0) break;
                filled += n;
            }
            if (filled < dataBytes) throw new IdxFormatException(name + ": truncated: " + declared + ", file has " + filled);
            long extra = 0;
            byte[] skip = new byte[8192];
            for (int n; (n = in.read(skip)) > 0; ) extra += n;
            if (extra > 0) throw new IdxFormatException(name + ": trailing data: " + declared + ", file has " + (dataBytes + extra));
        } catch (EOFException e) {
            throw new IdxFormatException(name + ": truncated gzip stream after " + filled + " bytes of data (" + declared + "): " + e.getMessage());
        }
        return buf;
    }

    private static byte[] readFully(String name, InputStream in, int n, String what) throws IOException {
        byte[] b;
        try {
            b = in.readNBytes(n);
        } catch (EOFException e) {
            throw new IdxFormatException(name + ": truncated gzip stream in the " + what + ": " + e.getMessage());
        }
        if (b.length < n) throw new IdxFormatException(name + ": truncated: the " + what + " needs " + n + " bytes, file has " + b.length);
        return b;
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) sb.append(String.format("%02x", x & 0xFF));
        return sb.toString();
    }

    static String dimsText(int[] dims) {
        StringJoiner j = new StringJoiner("x");
        for (int d : dims) j.add(Integer.toString(d));
        return j.toString();
    }
}
