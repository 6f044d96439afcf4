package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;

/**
 * A multi-layer LSTM with PyTorch's parameter names and layout (weight_ih_l{k} [4H, in], gates
 * ordered input, forget, cell, output) so state dicts move between the two.
 */
public class LSTM extends RNNBase {
    /** output [N,T,D*H] (batchFirst) or [T,N,D*H]; h and c [numLayers*D, N, H], D = 2 if bidirectional. */
    public record Output(Tensor output, Tensor h, Tensor c) {}

    public LSTM(int inputSize, int hiddenSize) { this(inputSize, hiddenSize, 1, true, false); }

    public LSTM(int inputSize, int hiddenSize, int numLayers, boolean bias, boolean batchFirst) {
        this(inputSize, hiddenSize, numLayers, bias, batchFirst, 0.0, false);
    }

    /** PyTorch's LSTM(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional). */
    public LSTM(int inputSize, int hiddenSize, int numLayers, boolean bias, boolean batchFirst, double dropout, boolean bidirectional) {
        super(4, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional);
    }

    @Override
    Tensor[] step(Tensor xProj, Tensor[] state, Tensor whh, Tensor bhh) { return RecurrentCells.lstm(xProj, state[0], state[1], whh, bhh); }

    @Override
    int stateCount() { return 2; }

    /** Inputs x, and optionally h0 and c0 [numLayers*D, N, H]. */
    @Override
    public Tensor forward(Tensor... inputs) {
        if (inputs.length == 1) return forward(inputs[0]);
        if (inputs.length == 3) return run(inputs[0], inputs[1], inputs[2]).output();
        throw new IllegalArgumentException(describe() + ": expected x or (x, h0, c0), got " + inputs.length + " inputs");
    }

    /** h0 and c0 both given, or both null (zeros); x may be unbatched [T, in] with 2-D states. */
    public Output run(Tensor x, Tensor h0, Tensor c0) {
        if ((h0 == null) != (c0 == null)) throw new IllegalArgumentException(describe() + ": give both h0 and c0, or neither");
        Tensor[] r = runLayers(x, h0, c0);
        return new Output(r[0], r[1], r[2]);
    }

    @Override
    protected String shortDescription() { return "LSTM " + inputSize + "->" + hiddenSize; }
}
