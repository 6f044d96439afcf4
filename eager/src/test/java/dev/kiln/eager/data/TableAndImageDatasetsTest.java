package dev.kiln.eager.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.eager.Tensor;
import java.awt.image.BufferedImage;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CSV tables (RFC 4180 quoting, classes, errors by line and column) and image folders (exact pixels, luma, resizing, batching). */
class TableAndImageDatasetsTest {
    @TempDir
    Path dir;

    @Test
    void csvRecordsFollowRfc4180() throws Exception {
        assertEquals(List.of(List.of("a", "b,c", "say \"hi\""), List.of("1", "line\nbreak", "")),
                CsvDataset.records("a,\"b,c\",\"say \"\"hi\"\"\"\r\n1,\"line\nbreak\",\r\n", ','));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CsvDataset.records("a,\"b\"x\n", ','));
        assertTrue(e.getMessage().contains("text after a closing quote in field 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CsvDataset.records("a,\"open\n", ','));
        assertTrue(e.getMessage().contains("not closed before the end"), e.getMessage());
    }

    @Test
    void aCsvTableBecomesFeaturesAndClassLabels() throws Exception {
        Path csv = dir.resolve("iris.csv");
        Files.writeString(csv, "\uFEFFsepal_length,sepal_width,species\r\n5.1,3.5,setosa\r\n7.0,3.2,versicolor\r\n\r\n6.3,\"3.3\",virginica\r\n4.9,3.0,setosa\r\n",
                StandardCharsets.UTF_8);
        CsvDataset ds = CsvDataset.builder(csv).label("species").build();
        assertEquals(4, ds.size());
        assertEquals(List.of("setosa", "versicolor", "virginica"), ds.classes());
        assertEquals(List.of("sepal_length", "sepal_width"), ds.featureNames());
        assertArrayEquals(new float[] {6.3f, 3.3f}, ds.get(2).get(0).toFloatArray());
        assertArrayEquals(new long[] {0, 1, 2, 0}, ds.labels().toLongArray());
        List<List<Tensor>> batches = new java.util.ArrayList<>();
        for (List<Tensor> b : DataLoader.builder(ds).batchSize(3).build()) batches.add(b);
        assertEquals("f32[3,2]", batches.get(0).get(0).typeString());
        assertEquals("i64[1]", batches.get(1).get(1).typeString());

        CsvDataset reg = CsvDataset.builder(csv).label(1).labelKind(CsvDataset.LabelKind.NUMBER).features("sepal_length").build();
        assertArrayEquals(new float[] {3.5f, 3.2f, 3.3f, 3.0f}, reg.labels().toFloatArray());
        assertEquals("f32[4,1]", reg.features().typeString());
    }

    @Test
    void badCellsAreNamedByLineAndColumn() throws Exception {
        Path csv = dir.resolve("bad.csv");
        Files.writeString(csv, "x,y,label\n1,2,a\n3,,b\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CsvDataset.builder(csv).label("label").build());
        assertEquals("bad.csv line 3, column 'y': the cell is empty", e.getMessage());
        Files.writeString(csv, "x,y,label\n1,2,a\n3,4\n");
        e = assertThrows(IllegalArgumentException.class, () -> CsvDataset.builder(csv).label("label").build());
        assertEquals("bad.csv line 3: 2 fields, expected 3", e.getMessage());
        Files.writeString(csv, "x,y,label\n1,2,a\n3,4,b\n");
        e = assertThrows(IllegalArgumentException.class, () -> CsvDataset.builder(csv).label("class").build());
        assertTrue(e.getMessage().contains("no column 'class' (columns: x, y, label)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CsvDataset.builder(csv).label("label").labelKind(CsvDataset.LabelKind.INTEGER).build());
        assertEquals("bad.csv line 2, column 'label': 'a' is not an integer", e.getMessage());
    }

    @Test
    void csvErrorsNameTheLineWhereTheRecordStartsAndAByteOrderMarkIsSkippedWithoutAHeader() throws Exception {
        Path csv = dir.resolve("multi.csv");
        Files.writeString(csv, "a,b,label\n\"1\n\",2,x\n\n3,oops,y\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CsvDataset.builder(csv).label("label").build());
        assertTrue(e.getMessage().contains("line 5, column 'b': 'oops' is not a number"), e.getMessage());
        Path bom = dir.resolve("bom.csv");
        Files.writeString(bom, "\uFEFF1,2,0\n3,4,1\n", StandardCharsets.UTF_8);
        CsvDataset ds = CsvDataset.builder(bom).header(false).label(2).labelKind(CsvDataset.LabelKind.INTEGER).build();
        assertArrayEquals(new float[] {1, 2}, ds.get(0).get(0).toFloatArray());
        Files.writeString(bom, "\uFEFF\"a\",b,label\n1,2,x\n", StandardCharsets.UTF_8);
        assertEquals(List.of("a", "b"), CsvDataset.builder(bom).label("label").build().featureNames());
    }

    @Test
    void grayImagesKeepTheirStoredValues() throws Exception {
        BufferedImage img = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setSample(0, 0, 0, 128);
        img.getRaster().setSample(1, 0, 0, 50);
        Files.createDirectories(dir.resolve("g/digit"));
        assertTrue(ImageIO.write(img, "png", dir.resolve("g/digit/x.png").toFile()));
        assertArrayEquals(new float[] {128 / 255f, 50 / 255f}, ImageFolder.builder(dir.resolve("g")).channels(1).build().get(0).get(0).toFloatArray());
        assertArrayEquals(new float[] {128 / 255f, 50 / 255f, 128 / 255f, 50 / 255f, 128 / 255f, 50 / 255f},
                ImageFolder.builder(dir.resolve("g")).build().get(0).get(0).toFloatArray(), "RGB from gray repeats the stored value");
        float[] resized = ImageFolder.builder(dir.resolve("g")).channels(1).size(1, 4).build().get(0).get(0).toFloatArray();
        assertEquals(128 / 255f, resized[0], 1e-6f); // the ends of a bilinear stretch keep the end pixels
        assertEquals(50 / 255f, resized[3], 1e-6f);
    }

    private static void png(Path file, int w, int h, int rgb) throws Exception {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, rgb);
        img.setRGB(0, 0, 0x102030); // one known pixel at the top left
        Files.createDirectories(file.getParent());
        assertTrue(ImageIO.write(img, "png", file.toFile()));
    }

    @Test
    void anImageFolderGivesExactPixelsAndSortedClasses() throws Exception {
        png(dir.resolve("imgs/dog/a.png"), 4, 3, 0xff8000);
        png(dir.resolve("imgs/cat/b.png"), 4, 3, 0x00ff00);
        png(dir.resolve("imgs/cat/c.png"), 4, 3, 0x0000ff);
        Files.writeString(dir.resolve("imgs/cat/notes.txt"), "not an image");
        ImageFolder ds = ImageFolder.builder(dir.resolve("imgs")).build();
        assertEquals(List.of("cat", "dog"), ds.classes());
        assertEquals(3, ds.size());
        List<Tensor> dog = ds.get(2);
        assertEquals("f32[3,3,4]", dog.get(0).typeString());
        assertEquals(1L, dog.get(1).toLongArray()[0]);
        float[] px = dog.get(0).toFloatArray();
        assertEquals(0x10 / 255f, px[0]); // R of the top-left pixel
        assertEquals(0x20 / 255f, px[12]); // G
        assertEquals(0x30 / 255f, px[24]); // B
        assertEquals(1f, px[1]);
        assertEquals(0x80 / 255f, px[13]);
        assertEquals(0f, px[25]);

        ImageFolder gray = ImageFolder.builder(dir.resolve("imgs")).channels(1).size(6, 8).build();
        Tensor g = gray.get(2).get(0);
        assertEquals("f32[1,6,8]", g.typeString());
        float orange = (0xff * 299 + 0x80 * 587 + 0) / 1000 / 255f;
        assertEquals(orange, g.toFloatArray()[6 * 8 - 1], 1e-6f); // the bottom-right corner is pure orange after bilinear resizing
        List<Tensor> batch = DataLoader.builder(gray).batchSize(3).build().iterator().next();
        assertEquals("f32[3,1,6,8]", batch.get(0).typeString());
        assertArrayEquals(new long[] {0, 0, 1}, batch.get(1).toLongArray());
    }

    @Test
    void brokenImagesAndEmptyFoldersAreNamed() throws Exception {
        Files.createDirectories(dir.resolve("imgs/empty"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageFolder.builder(dir.resolve("imgs")).build());
        assertTrue(e.getMessage().contains("holds no images"), e.getMessage());
        Files.writeString(dir.resolve("imgs/empty/broken.png"), "garbage, not a PNG");
        ImageFolder ds = ImageFolder.builder(dir.resolve("imgs")).build();
        RuntimeException r = assertThrows(RuntimeException.class, () -> ds.get(0));
        assertTrue((r instanceof IllegalArgumentException || r instanceof UncheckedIOException) && r.getMessage().contains("broken.png"), r.toString());
        png(dir.resolve("imgs/big/x.png"), 300, 300, 0);
        ImageFolder limited = ImageFolder.builder(dir.resolve("imgs")).maxPixels(10_000).build();
        r = assertThrows(IllegalArgumentException.class, () -> limited.get(0));
        assertTrue(r.getMessage().contains("300x300, more than the limit of 10000 pixels"), r.getMessage());
    }
}
