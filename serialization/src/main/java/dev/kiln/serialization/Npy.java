package dev.kiln.serialization;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy's .npy format for inputs and outputs of {@code kiln run}: float32, float64, int64 and
 * bool arrays in C order, little-endian. The header is a Python dict literal, parsed here with
 * a fixed pattern (never evaluated); Fortran order and object arrays are refused by name.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
    private static final Pattern HEADER = Pattern.compile("\\{.*}\\s*", Pattern.DOTALL);

    private Npy() {}

    public static Strided read(Path path) throws IOException { return read(path, LoadLimits.defaults()); }

    public static Strided read(Path path, LoadLimits limits) throws IOException {
        String what = path.getFileName().toString();
        long size = Files.size(path);
        try (InputStream in = Files.newInputStream(path)) {
            return read(in, size, limits, what);
        }
    }

    /**
     * Reads an .npy document of exactly {@code size} bytes from a stream (an HTTP body, say);
     * {@code what} names it in errors. Sizes are checked against the header before the data is read.
     */
    public static Strided read(InputStream in, long size, LoadLimits limits, String what) throws IOException {
        byte[] pre = in.readNBytes(10);
        if (pre.length < 10) throw KilnFormatException.at(what, "file of " + size + " bytes is too short for an .npy header");
        for (int i = 0; i < MAGIC.length; i++) {
            if (pre[i] != MAGIC[i]) throw KilnFormatException.at(what, "not an .npy file (missing the \\x93NUMPY magic)");
        }
        int major = pre[6] & 0xff;
        long headerLen;
        int prefix;
        if (major == 1) {
            headerLen = ByteBuffer.wrap(pre, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff;
            prefix = 10;
        } else if (major == 2 || major == 3) {
            byte[] more = in.readNBytes(2);
            if (more.length < 2) throw KilnFormatException.at(what, "truncated .npy header");
            headerLen = ByteBuffer.wrap(new byte[] {pre[8], pre[9], more[0], more[1]}).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
            prefix = 12;
        } else {
            throw KilnFormatException.at(what, "unsupported .npy format version " + major);
        }
        if (headerLen > Math.min(1 << 20, size - prefix)) throw KilnFormatException.at(what, "header length " + headerLen + " does not fit the file");
        byte[] hb = in.readNBytes((int) headerLen);
        String header = new String(hb, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        if (!HEADER.matcher(header).matches()) throw KilnFormatException.at(what + " header", "is not a dict literal: " + abbreviate(header));
        DType dtype = dtypeOf(find(DESCR, header, "descr", what), what);
        if (find(FORTRAN, header, "fortran_order", what).equals("True")) {
            throw KilnFormatException.at(what + " header.fortran_order", "Fortran-order arrays are not supported; save with numpy.ascontiguousarray");
        }
        long[] shape = parseShape(find(SHAPE, header, "shape", what), limits, what);
        long bytes = TensorBytes.checkedByteSize(dtype, shape, limits.maxTensorBytes(), what + " header.shape");
        long dataLen = size - prefix - headerLen;
        if (dataLen != bytes) {
            throw KilnFormatException.at(what, "has " + dataLen + " data bytes but " + dtype + java.util.Arrays.toString(shape) + " needs " + bytes);
        }
        byte[] data = in.readNBytes((int) bytes);
        if (data.length != bytes) throw KilnFormatException.at(what, "file changed while it was read");
        return TensorBytes.fromBytes(dtype, TensorBytes.toIntShape(shape), data, 0, what);
    }

    public static void write(Path path, Strided t) throws IOException {
        try (OutputStream out = Files.newOutputStream(path)) {
            write(out, t);
        }
    }

    /** Writes {@code t} as an .npy document to a stream (left open). */
    public static void write(OutputStream out, Strided t) throws IOException {
        StringBuilder shape = new StringBuilder("(");
        for (int d : t.shape()) shape.append(d).append(", ");
        if (t.rank() > 1) shape.setLength(shape.length() - 2);
        if (t.rank() == 1) shape.setLength(shape.length() - 1);
        shape.append(')');
        StringBuilder h = new StringBuilder("{'descr': '" + descr(t.dtype()) + "', 'fortran_order': False, 'shape': " + shape + ", }");
        // NumPy pads the header with spaces and a newline so the data starts on a 64-byte boundary.
        while ((10 + h.length() + 1) % 64 != 0) h.append(' ');
        h.append('\n');
        byte[] hb = h.toString().getBytes(StandardCharsets.ISO_8859_1);
        out.write(MAGIC);
        out.write(new byte[] {1, 0});
        out.write(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) hb.length).array());
        out.write(hb);
        out.write(TensorBytes.toBytes(t));
    }

    private static String descr(DType t) {
        return switch (t) {
            case FLOAT32 -> "<f4";
            case FLOAT64 -> "<f8";
            case INT64 -> "<i8";
            case BOOL -> "|b1";
        };
    }

    private static DType dtypeOf(String descr, String what) {
        return switch (descr) {
            case "<f4" -> DType.FLOAT32;
            case "<f8" -> DType.FLOAT64;
            case "<i8" -> DType.INT64;
            case "|b1" -> DType.BOOL;
            case "|O", "O", "<O", ">O" -> throw KilnFormatException.at(what + " header.descr", "object arrays are not supported (they hold pickled Python objects)");
            default -> throw KilnFormatException.at(what + " header.descr", "unsupported dtype '" + descr + "' (Kiln reads <f4, <f8, <i8, |b1; big-endian is not supported)");
        };
    }

    private static String find(Pattern p, String header, String key, String what) {
        Matcher m = p.matcher(header);
        if (!m.find()) throw KilnFormatException.at(what + " header." + key, "is missing or malformed in " + abbreviate(header));
        return m.group(1);
    }

    private static long[] parseShape(String tuple, LoadLimits limits, String what) {
        List<Long> dims = new ArrayList<>();
        for (String part : tuple.split(",")) {
            String s = part.trim();
            if (s.isEmpty()) continue;
            if (!s.matches("[0-9]{1,18}")) throw KilnFormatException.at(what + " header.shape", "'" + abbreviate(s) + "' is not a non-negative integer");
            dims.add(Long.parseLong(s));
            if (dims.size() > limits.maxRank()) throw KilnFormatException.at(what + " header.shape", "rank exceeds the limit of " + limits.maxRank());
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    private static String abbreviate(String s) { return s.length() <= 80 ? s.strip() : s.substring(0, 77) + "..."; }
}
