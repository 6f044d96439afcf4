package dev.kiln.eager.data.transforms;

import dev.kiln.eager.Tensor;

/** Zero-pads the last two dims by {@code padding}, then crops a random size x size window. */
public final class RandomCrop implements Transform {
    private final int height;
    private final int width;
    private final int padding;

    public RandomCrop(int size, int padding) { this(size, size, padding); }

    public RandomCrop(int height, int width, int padding) {
        if (height <= 0 || width <= 0) throw new IllegalArgumentException("RandomCrop: size must be positive, got " + height + "x" + width);
        if (padding < 0) throw new IllegalArgumentException("RandomCrop: padding must be >= 0, got " + padding);
        this.height = height;
        this.width = width;
        this.padding = padding;
    }

    @Override
    public Tensor apply(Tensor x, SampleRandom random) {
        if (x.dim() < 2) throw new IllegalArgumentException("RandomCrop: expected an image [..., H, W], got " + x.typeString());
        Tensor padded = padding == 0 ? x : x.pad(padding, padding, padding, padding);
        int h = padded.shape(-2), w = padded.shape(-1);
        if (h < height || w < width) {
            throw new IllegalArgumentException("RandomCrop: crop " + height + "x" + width + " is larger than the padded image " + h + "x" + w);
        }
        int top = random.nextInt(h - height + 1);
        int left = random.nextInt(w - width + 1);
        return padded.narrow(-2, top, height).narrow(-1, left, width).contiguous();
    }
}
