package dev.kiln.eager.data;

import dev.kiln.eager.Tensor;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Images in one folder per class, as torchvision's ImageFolder reads them:
 * {@code root/cat/001.png, root/dog/xyz.jpg}. Classes are the folder names in sorted order;
 * a sample is {@code [f32[C, H, W] in [0, 1], i64 class]}. Images are decoded when fetched (so a
 * DataLoader's workers decode in parallel) with the JDK's ImageIO (PNG, JPEG, BMP, GIF), converted
 * to 1 (luminance, as PIL's "L") or 3 channels, and resized bilinearly to one size when asked, so
 * they batch. Undecodable files, and images larger than the pixel limit, are errors naming the file.
 *
 * <pre>{@code
 * var train = new TransformedDataset(ImageFolder.builder(Path.of("data/train")).size(64, 64).build(),
 *         new Normalize(new double[] {0.485, 0.456, 0.406}, new double[] {0.229, 0.224, 0.225}));
 * }</pre>
 */
public final class ImageFolder implements Dataset<List<Tensor>> {
    private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".bmp", ".gif");

    private final List<Path> files;
    private final long[] labels;
    private final List<String> classes;
    private final int channels, height, width;
    private final long maxPixels;

    private ImageFolder(List<Path> files, long[] labels, List<String> classes, int channels, int height, int width, long maxPixels) {
        this.files = files;
        this.labels = labels;
        this.classes = classes;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.maxPixels = maxPixels;
    }

    public static Builder builder(Path root) { return new Builder(root); }

    public static final class Builder {
        private final Path root;
        private int channels = 3, height, width;
        private long maxPixels = 64L << 20;

        private Builder(Path root) { this.root = root; }

        /** 3 (RGB, the default) or 1 (luminance). */
        public Builder channels(int c) {
            if (c != 1 && c != 3) throw new IllegalArgumentException("ImageFolder: channels must be 1 or 3, got " + c);
            channels = c;
            return this;
        }

        /** Resize every image to height x width (bilinear); without it images keep their size. */
        public Builder size(int height, int width) {
            if (height < 1 || width < 1) throw new IllegalArgumentException("ImageFolder: size must be positive, got " + height + "x" + width);
            this.height = height;
            this.width = width;
            return this;
        }

        /** The largest image accepted, in pixels, checked from the header before decoding (default 64 Mi). */
        public Builder maxPixels(long n) { maxPixels = n; return this; }

        /** Lists the files (not decoding them); an empty class folder or an empty root is an error. */
        public ImageFolder build() throws IOException {
            if (!Files.isDirectory(root)) throw new IllegalArgumentException("ImageFolder: " + root + " is not a folder");
            List<Path> classDirs;
            try (Stream<Path> s = Files.list(root)) {
                classDirs = s.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
            }
            if (classDirs.isEmpty()) throw new IllegalArgumentException("ImageFolder: " + root + " has no class folders (expected root/CLASS/image.png)");
            List<String> classes = new ArrayList<>();
            List<Path> files = new ArrayList<>();
            List<Long> labels = new ArrayList<>();
            for (Path d : classDirs) {
                List<Path> images;
                try (Stream<Path> s = Files.walk(d)) {
                    images = s.filter(Files::isRegularFile).filter(p -> {
                        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                        return !n.startsWith(".") && EXTENSIONS.stream().anyMatch(n::endsWith);
                    }).sorted().toList();
                }
                if (images.isEmpty()) throw new IllegalArgumentException("ImageFolder: class folder " + d + " holds no images (" + String.join(", ", EXTENSIONS) + ")");
                for (Path p : images) {
                    files.add(p);
                    labels.add((long) classes.size());
                }
                classes.add(d.getFileName().toString());
            }
            return new ImageFolder(List.copyOf(files), labels.stream().mapToLong(Long::longValue).toArray(), List.copyOf(classes), channels, height, width, maxPixels);
        }
    }

    @Override
    public int size() { return files.size(); }

    @Override
    public List<Tensor> get(int index) {
        Dataset.checkIndex(index, size());
        return List.of(load(files.get(index)), Tensor.of(new long[] {labels[index]}).reshape());
    }

    public List<String> classes() { return classes; }

    /** The image files, in sample order (sorted by class, then path). */
    public List<Path> files() { return files; }

    private Tensor load(Path file) {
        BufferedImage img;
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) throw new IllegalArgumentException("ImageFolder: cannot open " + file);
            var readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) throw new IllegalArgumentException("ImageFolder: " + file + " is not an image ImageIO can decode (PNG, JPEG, BMP, GIF)");
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > maxPixels) {
                    throw new IllegalArgumentException("ImageFolder: " + file + " is " + reader.getWidth(0) + "x" + reader.getHeight(0) + ", more than the limit of " + maxPixels + " pixels");
                }
                img = reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("ImageFolder: " + file + " cannot be decoded: " + e.getMessage(), e);
        }
        boolean gray = img.getColorModel().getColorSpace().getType() == java.awt.color.ColorSpace.TYPE_GRAY && img.getRaster().getNumBands() == 1;
        if (height > 0 && (img.getHeight() != height || img.getWidth() != width)) img = resize(img, height, width, gray);
        int h = img.getHeight(), w = img.getWidth();
        float[] out = new float[channels * h * w];
        int plane = h * w;
        if (gray) {
            // the stored values: getRGB would map Java's linear gray space to sRGB and brighten every pixel
            float max = (1 << img.getColorModel().getComponentSize(0)) - 1;
            int[] v = img.getRaster().getSamples(0, 0, w, h, 0, (int[]) null);
            for (int i = 0; i < plane; i++) for (int c = 0; c < channels; c++) out[c * plane + i] = v[i] / max;
            return Tensor.of(out, channels, h, w);
        }
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w); // alpha is dropped, as below for resized images
        for (int i = 0; i < plane; i++) {
            int p = argb[i];
            int r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;
            if (channels == 1) {
                out[i] = (r * 299 + g * 587 + b * 114) / 1000 / 255f; // ITU-R 601-2 luma, integer as PIL's "L"
            } else {
                out[i] = r / 255f;
                out[plane + i] = g / 255f;
                out[2 * plane + i] = b / 255f;
            }
        }
        return Tensor.of(out, channels, h, w);
    }

    /** Bilinear resizing; gray images stay gray (of their bit depth), others become RGB with alpha dropped. */
    private static BufferedImage resize(BufferedImage src, int h, int w, boolean gray) {
        int type = !gray ? BufferedImage.TYPE_INT_RGB : src.getColorModel().getComponentSize(0) > 8 ? BufferedImage.TYPE_USHORT_GRAY : BufferedImage.TYPE_BYTE_GRAY;
        if (!gray && src.getColorModel().hasAlpha()) { // drop alpha before interpolating, as the unresized path ignores it
            BufferedImage opaque = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_INT_RGB);
            int[] px = src.getRGB(0, 0, src.getWidth(), src.getHeight(), null, 0, src.getWidth());
            opaque.setRGB(0, 0, src.getWidth(), src.getHeight(), px, 0, src.getWidth());
            src = opaque;
        }
        BufferedImage dst = new BufferedImage(w, h, type);
        Graphics2D g = dst.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(src, 0, 0, w, h, null);
        } finally {
            g.dispose();
        }
        return dst;
    }

    @Override
    public String toString() { return "ImageFolder(" + size() + " images, classes " + classes + ")"; }
}
