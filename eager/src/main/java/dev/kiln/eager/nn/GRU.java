package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;

/**
 * A multi-layer GRU with PyTorch's parameter names and layout (weight_ih_l{k} [3H, in], gates
 * ordered reset, update, new; the reset gate scales the hidden projection including its bias).
 */
public class GRU extends RNNBase {
    public GRU(int inputSize, int hiddenSize) { this(inputSize, hiddenSize, 1, true, false, 0.0, false); }

    /** PyTorch's GRU(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional). */
    public GRU(int inputSize, int hiddenSize, int numLayers, boolean bias, boolean batchFirst, double dropout, boolean bidirectional) {
        super(3, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional);
    }

    @Override
    Tensor[] step(Tensor xProj, Tensor[] state, Tensor whh, Tensor bhh) { return new Tensor[] {RecurrentCells.gru(xProj, state[0], whh, bhh)}; }

    /** Inputs x, and optionally h0 [numLayers*D, N, H]. */
    @Override
    public Tensor forward(Tensor... inputs) {
        if (inputs.length == 1) return forward(inputs[0]);
        if (inputs.length == 2) return run(inputs[0], inputs[1]).output();
        throw new IllegalArgumentException(describe() + ": expected x or (x, h0), got " + inputs.length + " inputs");
    }

    /** h0 may be null (zeros). */
    public RNN.Output run(Tensor x, Tensor h0) {
        Tensor[] r = runLayers(x, h0);
        return new RNN.Output(r[0], r[1]);
    }

    @Override
    protected String shortDescription() { return "GRU " + inputSize + "->" + hiddenSize; }
}
