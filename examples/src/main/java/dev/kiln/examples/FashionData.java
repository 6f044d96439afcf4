package dev.kiln.examples;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.data.IdxReader;
import dev.kiln.eager.random.Generator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Fashion-MNIST from the IDX files, or a small synthetic stand-in when they are absent. */
public record FashionData(Tensor trainImages, Tensor trainLabels, Tensor testImages, Tensor testLabels, String source, boolean synthetic) {

    public static final String[] CLASSES = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
    static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    private static final double MEAN = 0.2860, STD = 0.3530;

    /** The folder to read: --data, then $KILN_DATA, then the Debian package's folder; null when none has the files. */
    public static Path locate(String flag) {
        if (flag != null) return Path.of(flag);
        String env = System.getenv("KILN_DATA");
        if (env != null && !env.isBlank()) return Path.of(env);
        return hasFiles(DEBIAN_DIR) ? DEBIAN_DIR : null;
    }

    static boolean hasFiles(Path dir) {
        return file(dir, "train-images-idx3-ubyte") != null && file(dir, "train-labels-idx1-ubyte") != null
                && file(dir, "t10k-images-idx3-ubyte") != null && file(dir, "t10k-labels-idx1-ubyte") != null;
    }

    private static Path file(Path dir, String base) {
        for (String name : new String[] {base + ".gz", base}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }

    public static FashionData load(Path dir) throws IOException {
        if (!hasFiles(dir)) {
            throw new IOException(dir + ": expected the four Fashion-MNIST IDX files (train-images-idx3-ubyte[.gz], "
                    + "train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])");
        }
        Tensor xtr = normalize(IdxReader.readImages(file(dir, "train-images-idx3-ubyte")));
        Tensor ytr = IdxReader.readLabels(file(dir, "train-labels-idx1-ubyte"));
        Tensor xte = normalize(IdxReader.readImages(file(dir, "t10k-images-idx3-ubyte")));
        Tensor yte = IdxReader.readLabels(file(dir, "t10k-labels-idx1-ubyte"));
        return new FashionData(xtr, ytr, xte, yte, dir.toString(), false);
    }

    private static Tensor normalize(Tensor x) { return x.sub(MEAN).div(STD); }

    /**
     * Class-dependent blobs plus noise: learnable, so the whole pipeline (training, metrics,
     * checkpoint) runs meaningfully without the real data.
     */
    public static FashionData synthetic(int train, int test, long seed) {
        Generator g = new Generator(seed);
        return new FashionData(blobs(train, g, 0), labels(train, 0), blobs(test, g, train), labels(test, train), "synthetic", true);
    }

    private static Tensor labels(int n, int offset) {
        long[] y = new long[n];
        for (int i = 0; i < n; i++) y[i] = Math.floorMod(Generator.bits(0xC1A55, offset + i), 10);
        return Tensor.of(y, n);
    }

    private static Tensor blobs(int n, Generator g, int offset) {
        float[] px = new float[n * 784];
        double[] noise = g.normal(n * 784, 0, 0.3);
        for (int i = 0; i < n; i++) {
            int c = (int) Math.floorMod(Generator.bits(0xC1A55, offset + i), 10);
            int cy = 6 + (c / 5) * 14, cx = 4 + (c % 5) * 5;
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    double d2 = (y - cy) * (y - cy) + (x - cx) * (x - cx);
                    px[i * 784 + y * 28 + x] = (float) (2.0 * Math.exp(-d2 / 18.0) - 0.8 + noise[i * 784 + y * 28 + x]);
                }
            }
        }
        return Tensor.of(px, n, 1, 28, 28);
    }
}
