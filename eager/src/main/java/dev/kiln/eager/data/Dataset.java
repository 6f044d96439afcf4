package dev.kiln.eager.data;

/**
 * A map-style dataset: {@code size()} samples, each fetched by index. Implementations must
 * allow concurrent {@code get} calls, since a DataLoader with workers fetches in parallel.
 */
public interface Dataset<T> {
    int size();

    T get(int index);

    /**
     * Fetches a sample whose random augmentations are drawn from {@code sampleSeed}. The
     * DataLoader derives the seed from its generator, the epoch and the sample's index, so
     * augmentations are reproducible whatever the worker count. Datasets without randomness
     * ignore it.
     */
    default T get(int index, long sampleSeed) { return get(index); }

    /** An index check with the message every dataset should give. */
    static void checkIndex(int index, int size) {
        if (index < 0 || index >= size) throw new IndexOutOfBoundsException("index " + index + " is out of range for a dataset of size " + size);
    }
}
