package dev.kiln.eager.data;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.data.transforms.SampleRandom;
import dev.kiln.eager.data.transforms.Transform;
import dev.kiln.eager.random.Generator;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies a transform to one field (usually the input, field 0) of each sample. Random
 * transforms draw from the seed the DataLoader passes for the sample; a plain
 * {@code get(index)} uses a seed fixed by {@code baseSeed} and the index, so it is
 * repeatable too.
 */
public final class TransformedDataset implements Dataset<List<Tensor>> {
    private final Dataset<List<Tensor>> dataset;
    private final Transform transform;
    private final int field;
    private final long baseSeed;

    public TransformedDataset(Dataset<List<Tensor>> dataset, Transform transform) { this(dataset, transform, 0, 0L); }

    public TransformedDataset(Dataset<List<Tensor>> dataset, Transform transform, int field, long baseSeed) {
        if (field < 0) throw new IllegalArgumentException("TransformedDataset: field must be >= 0, got " + field);
        this.dataset = dataset;
        this.transform = transform;
        this.field = field;
        this.baseSeed = baseSeed;
    }

    @Override
    public int size() { return dataset.size(); }

    @Override
    public List<Tensor> get(int index) { return get(index, Generator.bits(baseSeed, index)); }

    @Override
    public List<Tensor> get(int index, long sampleSeed) {
        List<Tensor> sample = new ArrayList<>(dataset.get(index, sampleSeed));
        if (field >= sample.size()) throw new IllegalArgumentException("TransformedDataset: sample " + index + " has " + sample.size() + " fields, no field " + field);
        sample.set(field, transform.apply(sample.get(field), new SampleRandom(sampleSeed)));
        return sample;
    }
}
