package dev.kiln.eager.data;

import dev.kiln.eager.random.Generator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Operations over whole datasets. */
public final class Datasets {
    private Datasets() {}

    /** Splits a dataset into non-overlapping random subsets of the given lengths (which must sum to its size). */
    public static <T> List<Subset<T>> randomSplit(Dataset<T> dataset, int[] lengths, Generator generator) {
        long total = 0;
        for (int i = 0; i < lengths.length; i++) {
            if (lengths[i] < 0) throw new IllegalArgumentException("randomSplit: lengths[" + i + "] = " + lengths[i] + " is negative");
            total += lengths[i];
        }
        if (total != dataset.size()) {
            throw new IllegalArgumentException("randomSplit: sum of input lengths " + Arrays.toString(lengths) + " = " + total + " does not equal the length of the input dataset (" + dataset.size() + ")");
        }
        int[] perm = generator.permutation(dataset.size());
        List<Subset<T>> out = new ArrayList<>();
        int offset = 0;
        for (int len : lengths) {
            out.add(new Subset<>(dataset, Arrays.copyOfRange(perm, offset, offset + len)));
            offset += len;
        }
        return out;
    }

    /**
     * Splits by fractions that sum to 1, as PyTorch 1.13: each length is floor(size * fraction),
     * and the remaining samples go one each to the subsets in order.
     */
    public static <T> List<Subset<T>> randomSplit(Dataset<T> dataset, double[] fractions, Generator generator) {
        double sum = 0;
        for (int i = 0; i < fractions.length; i++) {
            if (!(fractions[i] >= 0 && fractions[i] <= 1)) throw new IllegalArgumentException("randomSplit: fraction at index " + i + " is not between 0 and 1: " + fractions[i]);
            sum += fractions[i];
        }
        if (Math.abs(sum - 1) > 1e-9) throw new IllegalArgumentException("randomSplit: fractions " + Arrays.toString(fractions) + " sum to " + sum + ", not 1");
        int n = dataset.size();
        int[] lengths = new int[fractions.length];
        int assigned = 0;
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = (int) Math.floor(n * fractions[i]);
            assigned += lengths[i];
        }
        for (int i = 0; i < n - assigned; i++) lengths[i % lengths.length]++;
        return randomSplit(dataset, lengths, generator);
    }
}
