package dev.kiln.eager.data;

/** A sample (or a batch's collation) failed while loading; names the sample index and batch. */
public final class DataLoaderException extends RuntimeException {
    private final int sampleIndex;
    private final int batchIndex;

    DataLoaderException(String message, int sampleIndex, int batchIndex, Throwable cause) {
        super(message, cause);
        this.sampleIndex = sampleIndex;
        this.batchIndex = batchIndex;
    }

    /** The dataset index of the failing sample, or -1 when collating the batch failed. */
    public int sampleIndex() { return sampleIndex; }

    public int batchIndex() { return batchIndex; }
}
