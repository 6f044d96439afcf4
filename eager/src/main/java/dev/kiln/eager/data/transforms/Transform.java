package dev.kiln.eager.data.transforms;

import dev.kiln.eager.Tensor;

/** A per-sample preprocessing step; random ones draw only from the given stream. */
@FunctionalInterface
public interface Transform {
    Tensor apply(Tensor input, SampleRandom random);
}
