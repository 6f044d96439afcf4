package dev.kiln.eager.data;

import dev.kiln.eager.Tensor;
import java.util.ArrayList;
import java.util.List;

/** Samples are slices along dim 0 of tensors that share their first dimension (e.g. inputs and labels). */
public final class TensorDataset implements Dataset<List<Tensor>> {
    private final List<Tensor> tensors;
    private final int size;

    public TensorDataset(Tensor... tensors) {
        if (tensors.length == 0) throw new IllegalArgumentException("TensorDataset: at least one tensor is required");
        for (int i = 0; i < tensors.length; i++) {
            if (tensors[i].dim() == 0) throw new IllegalArgumentException("TensorDataset: tensor " + i + " is a scalar; samples are taken along dim 0");
            if (tensors[i].shape(0) != tensors[0].shape(0)) {
                throw new IllegalArgumentException("TensorDataset: size mismatch between tensors: tensor 0 has " + tensors[0].shape(0)
                        + " samples (" + tensors[0].typeString() + "), tensor " + i + " has " + tensors[i].shape(0) + " (" + tensors[i].typeString() + ")");
            }
        }
        this.tensors = List.of(tensors);
        this.size = tensors[0].shape(0);
    }

    public List<Tensor> tensors() { return tensors; }

    @Override
    public int size() { return size; }

    @Override
    public List<Tensor> get(int index) {
        Dataset.checkIndex(index, size);
        List<Tensor> out = new ArrayList<>(tensors.size());
        for (Tensor t : tensors) out.add(t.select(0, index));
        return out;
    }
}
