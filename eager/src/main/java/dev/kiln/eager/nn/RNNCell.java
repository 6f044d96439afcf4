package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;

/** PyTorch's RNNCell: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu). */
public class RNNCell extends RNNCellBase {
    public final String nonlinearity;

    public RNNCell(int inputSize, int hiddenSize) { this(inputSize, hiddenSize, true, "tanh"); }

    public RNNCell(int inputSize, int hiddenSize, boolean bias, String nonlinearity) {
        super(1, inputSize, hiddenSize, bias);
        if (!"tanh".equals(nonlinearity) && !"relu".equals(nonlinearity))
            throw new IllegalArgumentException("RNNCell: nonlinearity must be \"tanh\" or \"relu\", got \"" + nonlinearity + "\"");
        this.nonlinearity = nonlinearity;
    }

    @Override
    public Tensor forward(Tensor x) { return forward(x, (Tensor) null); }

    /** x [N, in] or [in]; h [N, H] or [H], or null for zeros. Returns h'. */
    public Tensor forward(Tensor x, Tensor h) {
        Tensor xb = batched(x, h);
        Tensor r = RecurrentCells.rnn(RecurrentCells.input(xb, weightIh, biasIh), stateOf(h, xb), weightHh, biasHh, nonlinearity.equals("relu"));
        return unbatched(x, r);
    }

    @Override
    public Tensor forward(Tensor... inputs) {
        if (inputs.length == 1) return forward(inputs[0]);
        if (inputs.length == 2) return forward(inputs[0], inputs[1]);
        throw new IllegalArgumentException(describe() + ": expected x or (x, h), got " + inputs.length + " inputs");
    }

    @Override
    protected String extraRepr() { return super.extraRepr() + (nonlinearity.equals("relu") ? ", nonlinearity='relu'" : ""); }
}
