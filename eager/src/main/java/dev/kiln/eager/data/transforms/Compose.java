package dev.kiln.eager.data.transforms;

import dev.kiln.eager.Tensor;
import java.util.List;

/** Applies transforms in order, sharing the sample's random stream. */
public final class Compose implements Transform {
    private final List<Transform> transforms;

    public Compose(Transform... transforms) { this.transforms = List.of(transforms); }

    @Override
    public Tensor apply(Tensor input, SampleRandom random) {
        Tensor x = input;
        for (Transform t : transforms) x = t.apply(x, random);
        return x;
    }
}
