package dev.kiln.serialization;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import java.io.IOException;
import java.util.Arrays;
import java.util.Base64;
import java.util.Set;

/**
 * The {@code data} field of a parameter or constant: embedded base64 or a sidecar safetensors
 * entry, both with the SHA-256 of the little-endian bytes. Reading checks the declared size
 * against the limits and the encoded length before decoding anything.
 */
final class TensorData {
    private TensorData() {}

    static void writeEmbedded(JsonGenerator g, byte[] bytes) throws IOException {
        g.writeObjectFieldStart("data");
        g.writeStringField("encoding", "base64");
        g.writeStringField("sha256", Sha256.hex(bytes));
        g.writeStringField("base64", Base64.getEncoder().encodeToString(bytes));
        g.writeEndObject();
    }

    static void writeSidecar(JsonGenerator g, byte[] bytes, String file, String key) throws IOException {
        g.writeObjectFieldStart("data");
        g.writeStringField("encoding", "safetensors");
        g.writeStringField("sha256", Sha256.hex(bytes));
        g.writeStringField("file", file);
        g.writeStringField("key", key);
        g.writeEndObject();
    }

    /** Decodes {@code f} (the data object) into a tensor of the declared, already size-checked dtype and shape. */
    static Strided read(Json f, DType dtype, long[] shape, long bytes, Sidecars sidecars, boolean lenient) throws IOException {
        String encoding = f.object().string("encoding");
        String sha = f.string("sha256");
        if (!sha.matches("[0-9a-f]{64}")) throw KilnFormatException.at(f.child("sha256"), "must be 64 lower-case hex digits");
        byte[] raw;
        if (encoding.equals("base64")) {
            f.onlyKeys(Set.of("encoding", "sha256", "base64"), lenient);
            Json b64 = f.get("base64");
            String s = b64.string();
            long expected = (bytes + 2) / 3 * 4;
            if (s.length() != expected) {
                throw b64.error("has " + s.length() + " characters but " + dtype + Arrays.toString(shape) + " (" + bytes + " bytes) needs " + expected);
            }
            try {
                raw = Base64.getDecoder().decode(s);
            } catch (IllegalArgumentException e) {
                throw b64.error("is not valid base64: " + e.getMessage());
            }
            if (raw.length != bytes) throw b64.error("decodes to " + raw.length + " bytes but " + bytes + " are needed");
        } else if (encoding.equals("safetensors")) {
            f.onlyKeys(Set.of("encoding", "sha256", "file", "key"), lenient);
            SafetensorsFile sf = sidecars.get(f.get("file"));
            Json keyField = f.get("key");
            String key = keyField.string();
            SafetensorsFile.Entry e = sf.entries().get(key);
            if (e == null) throw keyField.error("sidecar '" + f.string("file") + "' has no tensor named '" + TypeCodec.abbreviate(key) + "'");
            if (e.dtype() != dtype || !Arrays.equals(e.shape(), shape)) {
                throw keyField.error("sidecar tensor is " + e.dtype() + Arrays.toString(e.shape()) + " but the artifact declares " + dtype + Arrays.toString(shape));
            }
            // checked before the tensor is allocated, streaming over the file
            String actual = sf.sha256(key);
            if (!actual.equals(sha)) throw KilnFormatException.at(f.child("sha256"), "checksum mismatch: the data hashes to " + actual);
            return sf.read(key);
        } else {
            throw KilnFormatException.at(f.child("encoding"), "unknown encoding '" + TypeCodec.abbreviate(encoding) + "' (expected base64 or safetensors)");
        }
        String actual = Sha256.hex(raw);
        if (!actual.equals(sha)) throw KilnFormatException.at(f.child("sha256"), "checksum mismatch: the data hashes to " + actual);
        return TensorBytes.fromBytes(dtype, TensorBytes.toIntShape(shape), raw, 0, f.path());
    }
}
