package dev.kiln.serialization;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Safetensors and .npy: round trips of every dtype, and hostile headers rejected by name. */
class WeightFilesTest {
    @TempDir
    Path dir;

    static Map<String, Strided> everyDtype() {
        Map<String, Strided> m = new LinkedHashMap<>();
        m.put("f32", RandomGraphs.randn(new Random(1), 2, 3));
        m.put("f64", Strided.contiguous(Storage.wrap(new double[] {Math.PI, -0.0, Double.NaN}), new int[] {3}));
        m.put("i64", Strided.contiguous(Storage.wrap(new long[] {Long.MIN_VALUE, 0, 7}), new int[] {1, 3}));
        m.put("bool", Strided.contiguous(Storage.wrap(new boolean[] {true, false}), new int[] {2}));
        m.put("scalar", Strided.contiguous(Storage.wrap(new float[] {1.5f}), new int[0]));
        m.put("empty", Strided.contiguous(Storage.wrap(new float[0]), new int[] {0, 4}));
        return m;
    }

    @Test
    void safetensorsRoundTripsEveryDtype() throws IOException {
        Path p = dir.resolve("w.safetensors");
        Safetensors.write(p, everyDtype(), Map.of("k", "v"));
        Map<String, Strided> back = Safetensors.read(p);
        assertEquals(everyDtype().keySet(), back.keySet());
        everyDtype().forEach((k, v) -> {
            assertArrayEquals(v.shape(), back.get(k).shape(), k);
            assertEquals(v.dtype(), back.get(k).dtype(), k);
            assertArrayEquals(TensorBytes.toBytes(v), TensorBytes.toBytes(back.get(k)), k);
        });
        assertEquals(0, (Files.readAllBytes(p).length - 8 - tensorBytes()) % 8, "header padded to 8 bytes");
    }

    private static long tensorBytes() { return everyDtype().values().stream().mapToLong(t -> TensorBytes.toBytes(t).length).sum(); }

    @Test
    void npyRoundTripsEveryDtype() throws IOException {
        for (var e : everyDtype().entrySet()) {
            Path p = dir.resolve(e.getKey() + ".npy");
            Npy.write(p, e.getValue());
            Strided back = Npy.read(p);
            assertArrayEquals(e.getValue().shape(), back.shape(), e.getKey());
            assertArrayEquals(TensorBytes.toBytes(e.getValue()), TensorBytes.toBytes(back), e.getKey());
            assertEquals(0, (Files.size(p) - TensorBytes.toBytes(e.getValue()).length) % 64, "data aligned to 64 bytes as NumPy does");
        }
    }

    /** A safetensors file with the given header JSON and data length. */
    private Path safetensors(String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = dir.resolve("bad.safetensors");
        Files.write(p, b.array());
        return p;
    }

    private void rejects(Path p, String expected) {
        KilnFormatException e = assertThrows(KilnFormatException.class, () -> Safetensors.read(p));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    @Test
    void hostileSafetensorsHeadersAreRejected() throws IOException {
        String a = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
        rejects(safetensors("{" + a + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "bad.safetensors.b.data_offsets: overlaps the previous tensor");
        rejects(safetensors("{" + a + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 16), "bad.safetensors.b.data_offsets: leaves a gap of 4 bytes");
        rejects(safetensors("{" + a + "}", 12), "bad.safetensors: the tensors cover 8 data bytes but the file has 12 (trailing bytes)");
        rejects(safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8), "bad.safetensors.a.data_offsets: [0, 16] is not inside the 8 data bytes");
        rejects(safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8), "bad.safetensors.a.data_offsets: span of 8 bytes does not match f32[3] = 12 bytes");
        rejects(safetensors("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4), "bad.safetensors.a.dtype: unsupported safetensors dtype 'F16'");
        rejects(safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,4]}}", 4), "bad.safetensors.a.shape[0]: dimension 4294967296 exceeds 2^31-1");
        rejects(safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,4]}}", 4), "bad.safetensors.a.shape: product of [2147483647, 2147483647, 2147483647] overflows 64 bits");
        Path bools = safetensors("{\"a\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[0,1]}}", 0);
        Files.write(bools, new byte[] {7}, java.nio.file.StandardOpenOption.APPEND);
        rejects(bools, "bad.safetensors.a: bool element 0 is 7 (must be 0 or 1)");
        rejects(safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8), "bad.safetensors.a.x: unknown field");
        Path huge = dir.resolve("huge.safetensors");
        Files.write(huge, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE).array());
        rejects(huge, "huge.safetensors: header length 9223372036854775807 does not fit in a file of 16 bytes");
        Path shortFile = dir.resolve("short.safetensors");
        Files.write(shortFile, new byte[] {1, 2, 3});
        rejects(shortFile, "short.safetensors: file of 3 bytes is too short");
    }

    private Path npy(String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(10 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) h.length).put(h);
        Path p = dir.resolve("bad.npy");
        Files.write(p, b.array());
        return p;
    }

    private void npyRejects(Path p, String expected) {
        KilnFormatException e = assertThrows(KilnFormatException.class, () -> Npy.read(p));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    @Test
    void hostileNpyFilesAreRejected() throws IOException {
        npyRejects(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }\n", 16), "bad.npy header.fortran_order: Fortran-order arrays are not supported");
        npyRejects(npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }\n", 16), "bad.npy header.descr: object arrays are not supported");
        npyRejects(npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }\n", 8), "unsupported dtype '>f4'");
        npyRejects(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", 8), "bad.npy: has 8 data bytes but f32[3] needs 12");
        npyRejects(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647), }\n", 8), "overflows 64 bits");
        npyRejects(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }\n", 8), "'-2' is not a non-negative integer");
        npyRejects(npy("__import__('os').system('x')\n", 0), "bad.npy header: is not a dict literal");
        Path notNpy = dir.resolve("x.npy");
        Files.writeString(notNpy, "hello world, not numpy");
        npyRejects(notNpy, "x.npy: not an .npy file");
        Strided ok = Npy.read(npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }\n", 8));
        assertEquals(DType.INT64, ok.dtype());
        assertEquals("[0]", Arrays.toString(ok.storage().i64()));
    }
}
