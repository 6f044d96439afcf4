package dev.kiln.serialization;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An open safetensors file whose header has been validated: every entry's dtype is known, its
 * byte range equals dtype x shape, lies inside the file, and the ranges tile the data section
 * exactly (no overlap, no gap, nothing after). Tensors are read one at a time on demand.
 */
final class SafetensorsFile implements Closeable {
    record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

    private final FileChannel channel;
    private final String what;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafetensorsFile(FileChannel channel, String what, long dataStart, Map<String, Entry> entries, Map<String, String> metadata) {
        this.channel = channel;
        this.what = what;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    static SafetensorsFile open(Path path, LoadLimits limits) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            return parse(ch, path.getFileName().toString(), limits);
        } catch (RuntimeException | IOException e) {
            ch.close();
            throw e;
        }
    }

    private static SafetensorsFile parse(FileChannel ch, String what, LoadLimits limits) throws IOException {
        long size = ch.size();
        if (size < 8) throw KilnFormatException.at(what, "file of " + size + " bytes is too short for a safetensors header");
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        long headerLen = lenBuf.flip().getLong();
        if (headerLen < 2 || headerLen > size - 8) {
            throw KilnFormatException.at(what, "header length " + headerLen + " does not fit in a file of " + size + " bytes");
        }
        if (headerLen > limits.maxDocumentBytes()) {
            throw KilnFormatException.at(what, "header length " + headerLen + " exceeds the limit of " + limits.maxDocumentBytes());
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
        readFully(ch, hb, 8);
        Json root = Json.root(StrictJson.parse(hb.array(), limits, what + " header")).object();
        long dataStart = 8 + headerLen;
        long dataLen = size - dataStart;
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (var it = root.node().fieldNames(); it.hasNext(); ) {
            String name = it.next();
            Json e = root.get(name);
            String p = what + "." + name;
            e = new Json(e.node(), p);
            if (name.equals("__metadata__")) {
                e.object();
                for (var mi = e.node().fieldNames(); mi.hasNext(); ) {
                    String k = mi.next();
                    metadata.put(k, e.get(k).string());
                }
                continue;
            }
            e.onlyKeys(Set.of("dtype", "shape", "data_offsets"), false);
            DType dt = Safetensors.dtypeOf(e.string("dtype"), e.child("dtype"));
            List<Json> dims = e.get("shape").array();
            if (dims.size() > limits.maxRank()) throw KilnFormatException.at(e.child("shape"), "rank " + dims.size() + " exceeds the limit of " + limits.maxRank());
            long[] shape = new long[dims.size()];
            for (int i = 0; i < shape.length; i++) shape[i] = dims.get(i).longValue();
            long bytes = TensorBytes.checkedByteSize(dt, shape, limits.maxTensorBytes(), e.child("shape"));
            List<Json> offs = e.get("data_offsets").array();
            if (offs.size() != 2) throw KilnFormatException.at(e.child("data_offsets"), "must be [begin, end], got " + offs.size() + " numbers");
            long begin = offs.get(0).longValue(), end = offs.get(1).longValue();
            if (begin < 0 || end < begin || end > dataLen) {
                throw KilnFormatException.at(e.child("data_offsets"), "[" + begin + ", " + end + "] is not inside the " + dataLen + " data bytes of the file");
            }
            if (end - begin != bytes) {
                throw KilnFormatException.at(e.child("data_offsets"), "span of " + (end - begin) + " bytes does not match " + dt + java.util.Arrays.toString(shape) + " = " + bytes + " bytes");
            }
            entries.put(name, new Entry(name, dt, shape, begin, end));
        }
        checkTiling(entries, dataLen, what);
        return new SafetensorsFile(ch, what, dataStart, Collections.unmodifiableMap(entries), Collections.unmodifiableMap(metadata));
    }

    /** The entries sorted by offset must cover [0, dataLen) back to back. */
    private static void checkTiling(Map<String, Entry> entries, long dataLen, String what) {
        List<Entry> sorted = new ArrayList<>(entries.values());
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long at = 0;
        for (Entry e : sorted) {
            if (e.begin() < at) throw KilnFormatException.at(what + "." + e.name() + ".data_offsets", "overlaps the previous tensor (begins at " + e.begin() + ", previous ends at " + at + ")");
            if (e.begin() > at) throw KilnFormatException.at(what + "." + e.name() + ".data_offsets", "leaves a gap of " + (e.begin() - at) + " bytes before it");
            at = e.end();
        }
        if (at != dataLen) throw KilnFormatException.at(what, "the tensors cover " + at + " data bytes but the file has " + dataLen + " (trailing bytes)");
    }

    Map<String, Entry> entries() { return entries; }

    Map<String, String> metadata() { return metadata; }

    /** The bytes of one entry (sizes were checked against the limits when the header was read). */
    byte[] bytes(String name) throws IOException {
        Entry e = entries.get(name);
        if (e == null) throw KilnFormatException.at(what, "has no tensor named '" + name + "'");
        ByteBuffer b = ByteBuffer.allocate((int) (e.end() - e.begin()));
        readFully(channel, b, dataStart + e.begin());
        return b.array();
    }

    Strided read(String name) throws IOException {
        Entry e = entries.get(name);
        if (e.dtype() == DType.BOOL) {
            byte[] b = bytes(name); // one byte per element: no larger than the tensor
            return TensorBytes.fromBytes(e.dtype(), TensorBytes.toIntShape(e.shape()), b, 0, what + "." + name);
        }
        // decoded straight from the file in 1 MiB pieces: the tensor is the only full-size copy in the heap
        int[] shape = TensorBytes.toIntShape(e.shape());
        Strided t = Strided.allocate(e.dtype(), shape);
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        long pos = dataStart + e.begin(), end = dataStart + e.end();
        int at = 0, item = e.dtype().itemSize();
        while (pos < end) {
            chunk.clear().limit((int) Math.min(CHUNK, end - pos));
            readFully(channel, chunk, pos);
            pos += chunk.limit();
            chunk.flip();
            int n = chunk.remaining() / item;
            switch (e.dtype()) {
                case FLOAT32 -> chunk.asFloatBuffer().get(t.storage().f32(), at, n);
                case FLOAT64 -> chunk.asDoubleBuffer().get(t.storage().f64(), at, n);
                default -> chunk.asLongBuffer().get(t.storage().i64(), at, n);
            }
            at += n;
        }
        return t;
    }

    /** CHUNK is a multiple of every item size. */
    private static final int CHUNK = 1 << 20;

    /** SHA-256 of one entry's bytes, read in 1 MiB pieces: no copy of the tensor is made to check it. */
    String sha256(String name) throws IOException {
        Entry e = entries.get(name);
        java.security.MessageDigest md;
        try {
            md = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException x) {
            throw new IllegalStateException("every Java runtime has SHA-256", x);
        }
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK);
        long pos = dataStart + e.begin(), end = dataStart + e.end();
        while (pos < end) {
            chunk.clear().limit((int) Math.min(CHUNK, end - pos));
            readFully(channel, chunk, pos);
            pos += chunk.limit();
            chunk.flip();
            md.update(chunk);
        }
        return java.util.HexFormat.of().formatHex(md.digest());
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) throw new KilnFormatException("unexpected end of file at byte " + pos);
            pos += n;
        }
    }

    @Override
    public void close() throws IOException { channel.close(); }
}
