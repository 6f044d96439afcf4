package dev.kiln.eager.data;

/** The samples of a dataset at the given indices, in that order. */
public final class Subset<T> implements Dataset<T> {
    private final Dataset<T> dataset;
    private final int[] indices;

    public Subset(Dataset<T> dataset, int[] indices) {
        int n = dataset.size();
        for (int i = 0; i < indices.length; i++) {
            if (indices[i] < 0 || indices[i] >= n) throw new IndexOutOfBoundsException("Subset: indices[" + i + "] = " + indices[i] + " is out of range for a dataset of size " + n);
        }
        this.dataset = dataset;
        this.indices = indices.clone();
    }

    public Dataset<T> dataset() { return dataset; }

    public int[] indices() { return indices.clone(); }

    @Override
    public int size() { return indices.length; }

    @Override
    public T get(int index) {
        Dataset.checkIndex(index, indices.length);
        return dataset.get(indices[index]);
    }

    @Override
    public T get(int index, long sampleSeed) {
        Dataset.checkIndex(index, indices.length);
        return dataset.get(indices[index], sampleSeed);
    }
}
