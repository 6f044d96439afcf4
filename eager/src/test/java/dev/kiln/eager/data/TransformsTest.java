package dev.kiln.eager.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.data.transforms.Compose;
import dev.kiln.eager.data.transforms.Normalize;
import dev.kiln.eager.data.transforms.RandomCrop;
import dev.kiln.eager.data.transforms.RandomHorizontalFlip;
import dev.kiln.eager.data.transforms.SampleRandom;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TransformsTest {
    static final Tensor IMAGE = Tensor.arange(0, 2 * 3 * 3, 1).to(DType.FLOAT32).reshape(2, 3, 3);

    @Test
    void normalizePerChannel() {
        Tensor out = new Normalize(new double[] {1, 10}, new double[] {2, 4}).apply(IMAGE, new SampleRandom(0));
        assertEquals((0 - 1) / 2.0, out.getFlat(0), 1e-6);
        assertEquals((17 - 10) / 4.0, out.getFlat(17), 1e-6);
        var e = assertThrows(IllegalArgumentException.class, () -> new Normalize(new double[] {0, 0, 0}, new double[] {1, 1, 1}).apply(IMAGE, new SampleRandom(0)));
        assertTrue(e.getMessage().contains("image has 2 channels"), e.getMessage());
    }

    @Test
    void flipAlwaysOrNever() {
        Tensor flipped = new RandomHorizontalFlip(1.0).apply(IMAGE, new SampleRandom(5));
        assertArrayEquals(new float[] {2, 1, 0}, flipped.select(0, 0).select(0, 0).toFloatArray());
        assertSame(IMAGE, new RandomHorizontalFlip(0.0).apply(IMAGE, new SampleRandom(5)));
    }

    @Test
    void randomCropIsAWindowOfThePaddedImageChosenBySeed() {
        RandomCrop crop = new RandomCrop(3, 1);
        Tensor padded = IMAGE.pad(1, 1, 1, 1);
        Set<String> windows = new HashSet<>();
        for (long seed = 0; seed < 60; seed++) {
            Tensor out = crop.apply(IMAGE, new SampleRandom(seed));
            SampleRandom r = new SampleRandom(seed);
            int top = r.nextInt(3), left = r.nextInt(3);
            assertTrue(out.equal(padded.narrow(1, top, 3).narrow(2, left, 3).contiguous()), "seed " + seed);
            assertTrue(out.equal(crop.apply(IMAGE, new SampleRandom(seed))), "same seed, same crop");
            windows.add(top + "," + left);
        }
        assertEquals(9, windows.size(), "all 9 offsets occur");
        var e = assertThrows(IllegalArgumentException.class, () -> new RandomCrop(6, 1).apply(IMAGE, new SampleRandom(0)));
        assertTrue(e.getMessage().contains("larger than the padded image 5x5"), e.getMessage());
    }

    @Test
    void transformedDatasetIsRepeatableAndComposes() {
        TensorDataset base = new TensorDataset(IMAGE.unsqueeze(0).expand(4, 2, 3, 3).contiguous(), Tensor.arange(4));
        TransformedDataset d = new TransformedDataset(base, new Compose(new RandomCrop(3, 1), new RandomHorizontalFlip()));
        List<Tensor> a = d.get(2), b = d.get(2);
        assertTrue(a.get(0).equal(b.get(0)));
        assertEquals(2, a.get(1).itemLong(), "labels untouched");
        boolean anyDifferent = false;
        for (long s = 0; s < 10; s++) anyDifferent |= !d.get(2, s).get(0).equal(a.get(0));
        assertTrue(anyDifferent, "other seeds give other augmentations");
    }
}
