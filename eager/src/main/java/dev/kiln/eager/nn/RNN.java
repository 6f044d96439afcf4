package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;

/** PyTorch's Elman RNN, h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu), multi-layer. */
public class RNN extends RNNBase {
    /** output [N,T,D*H] (batchFirst) or [T,N,D*H]; h [numLayers*D, N, H], D = 2 if bidirectional. */
    public record Output(Tensor output, Tensor h) {}

    public final String nonlinearity;

    public RNN(int inputSize, int hiddenSize) { this(inputSize, hiddenSize, 1, "tanh", true, false, 0.0, false); }

    /** PyTorch's RNN(input_size, hidden_size, num_layers, nonlinearity, bias, batch_first, dropout, bidirectional). */
    public RNN(int inputSize, int hiddenSize, int numLayers, String nonlinearity, boolean bias, boolean batchFirst, double dropout, boolean bidirectional) {
        super(1, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional);
        if (!"tanh".equals(nonlinearity) && !"relu".equals(nonlinearity))
            throw new IllegalArgumentException("RNN: nonlinearity must be \"tanh\" or \"relu\", got \"" + nonlinearity + "\"");
        this.nonlinearity = nonlinearity;
    }

    @Override
    Tensor[] step(Tensor xProj, Tensor[] state, Tensor whh, Tensor bhh) {
        return new Tensor[] {RecurrentCells.rnn(xProj, state[0], whh, bhh, nonlinearity.equals("relu"))};
    }

    /** Inputs x, and optionally h0 [numLayers*D, N, H]. */
    @Override
    public Tensor forward(Tensor... inputs) {
        if (inputs.length == 1) return forward(inputs[0]);
        if (inputs.length == 2) return run(inputs[0], inputs[1]).output();
        throw new IllegalArgumentException(describe() + ": expected x or (x, h0), got " + inputs.length + " inputs");
    }

    /** h0 may be null (zeros). */
    public Output run(Tensor x, Tensor h0) {
        Tensor[] r = runLayers(x, h0);
        return new Output(r[0], r[1]);
    }

    @Override
    protected String shortDescription() { return "RNN " + inputSize + "->" + hiddenSize; }

    @Override
    protected String extraRepr() { return super.extraRepr() + (nonlinearity.equals("relu") ? ", nonlinearity='relu'" : ""); }
}
