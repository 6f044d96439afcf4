package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;

/** PyTorch's LSTMCell, gates input, forget, cell, output. */
public class LSTMCell extends RNNCellBase {
    /** The next hidden and cell state. */
    public record State(Tensor h, Tensor c) {}

    public LSTMCell(int inputSize, int hiddenSize) { this(inputSize, hiddenSize, true); }

    public LSTMCell(int inputSize, int hiddenSize, boolean bias) { super(4, inputSize, hiddenSize, bias); }

    /** Returns h' for zero initial states. */
    @Override
    public Tensor forward(Tensor x) { return step(x, null, null).h(); }

    /** x [N, in] or [in]; h and c [N, H] or [H], both or neither null (zeros). */
    public State step(Tensor x, Tensor h, Tensor c) {
        if ((h == null) != (c == null)) throw new IllegalArgumentException(describe() + ": give both h and c, or neither");
        Tensor xb = batched(x, h, c);
        Tensor[] r = RecurrentCells.lstm(RecurrentCells.input(xb, weightIh, biasIh), stateOf(h, xb), stateOf(c, xb), weightHh, biasHh);
        return new State(unbatched(x, r[0]), unbatched(x, r[1]));
    }

    /** Inputs x, or (x, h, c); returns h'. */
    @Override
    public Tensor forward(Tensor... inputs) {
        if (inputs.length == 1) return forward(inputs[0]);
        if (inputs.length == 3) return step(inputs[0], inputs[1], inputs[2]).h();
        throw new IllegalArgumentException(describe() + ": expected x or (x, h, c), got " + inputs.length + " inputs");
    }
}
