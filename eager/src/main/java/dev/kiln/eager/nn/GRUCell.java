package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;

/** PyTorch's GRUCell, gates reset, update, new. */
public class GRUCell extends RNNCellBase {
    public GRUCell(int inputSize, int hiddenSize) { this(inputSize, hiddenSize, true); }

    public GRUCell(int inputSize, int hiddenSize, boolean bias) { super(3, inputSize, hiddenSize, bias); }

    @Override
    public Tensor forward(Tensor x) { return forward(x, (Tensor) null); }

    /** x [N, in] or [in]; h [N, H] or [H], or null for zeros. Returns h'. */
    public Tensor forward(Tensor x, Tensor h) {
        Tensor xb = batched(x, h);
        return unbatched(x, RecurrentCells.gru(RecurrentCells.input(xb, weightIh, biasIh), stateOf(h, xb), weightHh, biasHh));
    }

    @Override
    public Tensor forward(Tensor... inputs) {
        if (inputs.length == 1) return forward(inputs[0]);
        if (inputs.length == 2) return forward(inputs[0], inputs[1]);
        throw new IllegalArgumentException(describe() + ": expected x or (x, h), got " + inputs.length + " inputs");
    }
}
