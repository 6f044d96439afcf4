package dev.kiln.eager.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.eager.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {
    @TempDir Path dir;

    static byte[] header(int typeCode, int... dims) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length);
        b.put((byte) 0).put((byte) 0).put((byte) typeCode).put((byte) dims.length);
        for (int d : dims) b.putInt(d);
        return b.array();
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static byte[] gzip(byte[] content) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(content);
        }
        return bos.toByteArray();
    }

    Path write(String name, byte[] content) throws IOException { return Files.write(dir.resolve(name), content); }

    static byte[] pixels(int n) {
        byte[] p = new byte[n];
        for (int i = 0; i < n; i++) p[i] = (byte) (i * 37);
        return p;
    }

    void assertError(Path file, String expected) {
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.read(file));
        assertEquals(expected, e.getMessage());
    }

    @Test
    void readsRawAndGzipImagesAndLabels() throws IOException {
        byte[] file = concat(header(0x08, 2, 2, 3), pixels(12));
        for (Path p : new Path[] {write("imgs-idx3-ubyte", file), write("imgs-idx3-ubyte.gz", gzip(file))}) {
            Tensor t = IdxReader.readImages(p);
            assertArrayEquals(new int[] {2, 1, 2, 3}, t.shape());
            assertEquals((byte) (5 * 37) & 0xFF, t.getFlat(5) * 255, 1e-3, "unsigned bytes scaled to [0, 1]");
        }
        Tensor labels = IdxReader.readLabels(write("labels", concat(header(0x08, 3), new byte[] {9, 0, (byte) 200})));
        assertArrayEquals(new long[] {9, 0, 200}, labels.toLongArray());
    }

    @Test
    void readsBigEndianIntsAndFloats() throws IOException {
        ByteBuffer ints = ByteBuffer.allocate(8).putInt(-2).putInt(70000);
        assertArrayEquals(new long[] {-2, 70000}, IdxReader.read(write("ints", concat(header(0x0C, 2), ints.array()))).toTensor().toLongArray());
        ByteBuffer floats = ByteBuffer.allocate(8).putFloat(1.5f).putFloat(-0.25f);
        assertArrayEquals(new float[] {1.5f, -0.25f}, IdxReader.read(write("floats", concat(header(0x0D, 1, 2), floats.array()))).toTensor().toFloatArray());
    }

    @Test
    void truncatedGzipDataNamesFileAndSizes() throws IOException {
        Path p = write("train-images-idx3-ubyte.gz", gzip(concat(header(0x08, 60000, 28, 28), pixels(1000))));
        assertError(p, "train-images-idx3-ubyte.gz: truncated: header declares 60000x28x28 = 47040000 bytes of data, file has 1000");
    }

    @Test
    void truncatedRawDataIsCaughtBeforeReading() throws IOException {
        assertError(write("raw", concat(header(0x0C, 10, 3), new byte[7])), "raw: truncated: header declares 10x3 int values = 120 bytes of data, file has 7");
    }

    @Test
    void trailingDataIsAnError() throws IOException {
        byte[] file = concat(header(0x08, 2, 2), pixels(6));
        assertError(write("extra", file), "extra: trailing data: header declares 2x2 = 4 bytes of data, file has 6");
        assertError(write("extra.gz", gzip(file)), "extra.gz: trailing data: header declares 2x2 = 4 bytes of data, file has 6");
    }

    @Test
    void truncatedHeaders() throws IOException {
        assertError(write("tiny", new byte[] {0, 0}), "tiny: truncated: the magic number needs 4 bytes, file has 2");
        byte[] h = header(0x08, 5, 5, 5);
        assertError(write("short", java.util.Arrays.copyOf(h, 10)), "short: truncated: the header (3 dimension sizes) needs 12 bytes, file has 6");
    }

    @Test
    void badMagicAndTypeCode() throws IOException {
        Path png = write("image.png", new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3, 4});
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.read(png));
        assertTrue(e.getMessage().startsWith("image.png: not an IDX file: magic number 0x89504e47"), e.getMessage());
        e = assertThrows(IdxFormatException.class, () -> IdxReader.read(write("odd", concat(header(0x0A, 1), new byte[1]))));
        assertTrue(e.getMessage().startsWith("odd: unknown IDX data type code 0x0a"), e.getMessage());
        assertError(write("norank", new byte[] {0, 0, 8, 0}), "norank: magic number 0x00000800 declares 0 dimensions");
    }

    @Test
    void hugeDeclaredSizesAreRejectedWithoutAllocating() throws IOException {
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.read(write("huge.gz", gzip(header(0x08, 65536, 65536, 65536)))));
        assertTrue(e.getMessage().startsWith("huge.gz: header declares 65536x65536"), e.getMessage());
        e = assertThrows(IdxFormatException.class, () -> IdxReader.read(write("neg", header(0x08, -1))));
        assertEquals("neg: dimension 0 is 4294967295, larger than the supported maximum 2147483647", e.getMessage());
        // Fits in the size limit but the gzip stream is short: read in chunks, never allocating 2 GB.
        e = assertThrows(IdxFormatException.class, () -> IdxReader.read(write("big.gz", gzip(concat(header(0x08, 2_000_000_000), pixels(10))))));
        assertEquals("big.gz: truncated: header declares 2000000000 = 2000000000 bytes of data, file has 10", e.getMessage());
    }

    @Test
    void corruptGzipStream() throws IOException {
        byte[] good = gzip(concat(header(0x08, 4), pixels(4)));
        byte[] bad = good.clone();
        for (int i = 10; i < bad.length - 8; i++) bad[i] = (byte) 0xFF;
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.read(write("bad.gz", bad)));
        assertTrue(e.getMessage().startsWith("bad.gz: corrupt gzip stream") || e.getMessage().startsWith("bad.gz: truncated gzip stream"), e.getMessage());
        byte[] cut = java.util.Arrays.copyOf(gzip(concat(header(0x08, 4000), pixels(4000))), 30);
        e = assertThrows(IdxFormatException.class, () -> IdxReader.read(write("cut.gz", cut)));
        assertTrue(e.getMessage().startsWith("cut.gz: truncated"), e.getMessage());
    }

    @Test
    void readsTheRealFashionMnistTestSet() throws IOException {
        Path root = Path.of("/usr/share/datasets/fashion-mnist");
        Assumptions.assumeTrue(Files.isDirectory(root), "Fashion-MNIST not installed at " + root + "; skipping the real-file test");
        Tensor images = IdxReader.readImages(root.resolve("t10k-images-idx3-ubyte.gz"));
        Tensor labels = IdxReader.readLabels(root.resolve("t10k-labels-idx1-ubyte.gz"));
        assertArrayEquals(new int[] {10000, 1, 28, 28}, images.shape());
        assertArrayEquals(new long[] {9, 2}, labels.slice(0, 0, 2).toLongArray(), "first test labels: ankle boot, pullover");
        Tensor first = images.select(0, 0);
        assertEquals(33456 / 255.0, first.sum().item(), 1e-3, "pixel sum of the first image");
        assertEquals(0.0, first.getFlat(214));
        assertTrue(first.getFlat(215) > 0);
    }
}
