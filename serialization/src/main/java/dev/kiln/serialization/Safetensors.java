package dev.kiln.serialization;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors layout (so Python tools read Kiln weights): an 8-byte little-endian header
 * length, a JSON header mapping each name to dtype, shape and [begin, end) byte offsets into
 * the data that follows, an optional {@code __metadata__} map of strings, then the data.
 */
public final class Safetensors {
    private Safetensors() {}

    public static Map<String, Strided> read(Path path) throws IOException { return read(path, LoadLimits.defaults()); }

    /** Reads every tensor, in file order; the header is validated before any tensor is allocated. */
    public static Map<String, Strided> read(Path path, LoadLimits limits) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(path, limits)) {
            Map<String, Strided> out = new LinkedHashMap<>();
            for (String name : f.entries().keySet()) out.put(name, f.read(name));
            return out;
        }
    }

    public static void write(Path path, Map<String, Strided> tensors) throws IOException { write(path, tensors, Map.of()); }

    /** Writes tensors in map order, contiguous and little-endian, with optional string metadata. */
    public static void write(Path path, Map<String, Strided> tensors, Map<String, String> metadata) throws IOException {
        Map<String, byte[]> data = new LinkedHashMap<>();
        tensors.forEach((k, v) -> data.put(k, TensorBytes.toBytes(v)));
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        try (JsonGenerator g = new JsonFactory().createGenerator(header, JsonEncoding.UTF8)) {
            g.writeStartObject();
            if (!metadata.isEmpty()) {
                g.writeObjectFieldStart("__metadata__");
                for (var e : metadata.entrySet()) g.writeStringField(e.getKey(), e.getValue());
                g.writeEndObject();
            }
            long offset = 0;
            for (var e : tensors.entrySet()) {
                if (e.getKey().equals("__metadata__")) throw new IllegalArgumentException("a tensor cannot be named __metadata__");
                g.writeObjectFieldStart(e.getKey());
                g.writeStringField("dtype", dtypeName(e.getValue().dtype()));
                g.writeArrayFieldStart("shape");
                for (int d : e.getValue().shape()) g.writeNumber(d);
                g.writeEndArray();
                long end = offset + data.get(e.getKey()).length;
                g.writeArrayFieldStart("data_offsets");
                g.writeNumber(offset);
                g.writeNumber(end);
                g.writeEndArray();
                g.writeEndObject();
                offset = end;
            }
            g.writeEndObject();
        }
        // The reference implementation pads the header with spaces to 8 bytes so the data is aligned.
        while (header.size() % 8 != 0) header.write(' ');
        try (OutputStream out = Files.newOutputStream(path)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.size()).array());
            header.writeTo(out);
            for (byte[] b : data.values()) out.write(b);
        }
    }

    static String dtypeName(DType t) {
        return switch (t) {
            case FLOAT32 -> "F32";
            case FLOAT64 -> "F64";
            case INT64 -> "I64";
            case BOOL -> "BOOL";
        };
    }

    static DType dtypeOf(String name, String path) {
        return switch (name) {
            case "F32" -> DType.FLOAT32;
            case "F64" -> DType.FLOAT64;
            case "I64" -> DType.INT64;
            case "BOOL" -> DType.BOOL;
            default -> throw KilnFormatException.at(path, "unsupported safetensors dtype '" + name + "' (Kiln reads F32, F64, I64, BOOL)");
        };
    }
}
