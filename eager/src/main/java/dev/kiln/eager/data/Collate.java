package dev.kiln.eager.data;

import dev.kiln.eager.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Collate functions: how a list of samples becomes one batch. */
public final class Collate {
    private Collate() {}

    /** For samples that are lists of tensors (e.g. [image, label]): stacks each position along a new dim 0. */
    public static Function<List<List<Tensor>>, List<Tensor>> stack() {
        return samples -> {
            if (samples.isEmpty()) throw new IllegalArgumentException("collate: empty batch");
            int fields = samples.get(0).size();
            List<Tensor> out = new ArrayList<>(fields);
            for (int f = 0; f < fields; f++) {
                List<Tensor> column = new ArrayList<>(samples.size());
                for (int s = 0; s < samples.size(); s++) {
                    List<Tensor> sample = samples.get(s);
                    if (sample.size() != fields) {
                        throw new IllegalArgumentException("collate: sample " + s + " of the batch has " + sample.size() + " fields, sample 0 has " + fields);
                    }
                    Tensor t = sample.get(f);
                    if (!java.util.Arrays.equals(t.shape(), column.isEmpty() ? t.shape() : column.get(0).shape())) {
                        throw new IllegalArgumentException("collate: field " + f + " of sample " + s + " is " + t.typeString() + ", sample 0 has " + column.get(0).typeString()
                                + "; use a custom collate function for samples of different shapes");
                    }
                    column.add(t);
                }
                out.add(Tensor.stack(column, 0));
            }
            return out;
        };
    }
}
