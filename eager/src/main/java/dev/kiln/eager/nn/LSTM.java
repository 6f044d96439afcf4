package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.init.Init;
import java.util.ArrayList;
import java.util.List;

/**
 * A multi-layer unidirectional LSTM built from Tensor ops, with PyTorch's parameter names
 * and layout (weight_ih_l{k} [4H, in], gates ordered input, forget, cell, output) so state
 * dicts move between the two. The input projection of all time steps is one matmul per layer.
 */
public class LSTM extends Module {
    public final int inputSize, hiddenSize, numLayers;
    public final boolean batchFirst;
    private final List<Tensor[]> layers = new ArrayList<>();

    /** output [N,T,H] (batchFirst) or [T,N,H]; h and c [numLayers, N, H]. */
    public record Output(Tensor output, Tensor h, Tensor c) {}

    public LSTM(int inputSize, int hiddenSize) { this(inputSize, hiddenSize, 1, true, false); }

    public LSTM(int inputSize, int hiddenSize, int numLayers, boolean bias, boolean batchFirst) {
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        this.numLayers = numLayers;
        this.batchFirst = batchFirst;
        double k = 1 / Math.sqrt(hiddenSize);
        for (int l = 0; l < numLayers; l++) {
            int in = l == 0 ? inputSize : hiddenSize;
            Tensor[] p = {
                registerParameter("weight_ih_l" + l, Tensor.zeros(4 * hiddenSize, in)),
                registerParameter("weight_hh_l" + l, Tensor.zeros(4 * hiddenSize, hiddenSize)),
                registerParameter("bias_ih_l" + l, bias ? Tensor.zeros(4 * hiddenSize) : null),
                registerParameter("bias_hh_l" + l, bias ? Tensor.zeros(4 * hiddenSize) : null)};
            for (Tensor t : p) if (t != null) Init.uniform_(t, -k, k);
            layers.add(p);
        }
    }

    @Override
    public Tensor forward(Tensor x) { return run(x, null, null).output(); }

    /** Inputs x, and optionally h0 and c0 [numLayers, N, H]. */
    @Override
    public Tensor forward(Tensor... inputs) {
        if (inputs.length == 1) return forward(inputs[0]);
        if (inputs.length == 3) return run(inputs[0], inputs[1], inputs[2]).output();
        throw new IllegalArgumentException(describe() + ": expected x or (x, h0, c0), got " + inputs.length + " inputs");
    }

    public Output run(Tensor x, Tensor h0, Tensor c0) {
        if (x.dim() != 3 || x.shape(2) != inputSize) throw badInput(batchFirst ? "[N,T," + inputSize + "]" : "[T,N," + inputSize + "]", x);
        Tensor seq = batchFirst ? x.transpose(0, 1) : x; // [T, N, in]
        int steps = seq.shape(0);
        List<Tensor> hs = new ArrayList<>(), cs = new ArrayList<>();
        // zero state derived from the input rather than Tensor.zeros(n, H): a literal batch size
        // would pin the batch when the model is traced with a symbolic one
        Tensor zeroState = Tensor.zerosLike(seq.select(0, 0).narrow(1, 0, 1)).expand(-1, hiddenSize);
        for (int l = 0; l < numLayers; l++) {
            Tensor[] p = layers.get(l);
            Tensor h = h0 != null ? h0.select(0, l) : zeroState;
            Tensor c = c0 != null ? c0.select(0, l) : zeroState;
            Tensor proj = seq.matmul(p[0].t());
            if (p[2] != null) proj = proj.add(p[2]).add(p[3]);
            List<Tensor> outs = new ArrayList<>(steps);
            for (int t = 0; t < steps; t++) {
                Tensor gates = proj.select(0, t).add(h.matmul(p[1].t()));
                List<Tensor> g = gates.chunk(4, 1);
                Tensor i = g.get(0).sigmoid(), f = g.get(1).sigmoid(), cell = g.get(2).tanh(), o = g.get(3).sigmoid();
                c = f.mul(c).add(i.mul(cell));
                h = o.mul(c.tanh());
                outs.add(h);
            }
            seq = Tensor.stack(outs, 0);
            hs.add(h);
            cs.add(c);
        }
        Tensor out = batchFirst ? seq.transpose(0, 1) : seq;
        return new Output(out, Tensor.stack(hs, 0), Tensor.stack(cs, 0));
    }

    @Override
    protected String shortDescription() { return "LSTM " + inputSize + "->" + hiddenSize; }

    @Override
    protected String extraRepr() {
        return inputSize + ", " + hiddenSize + (numLayers != 1 ? ", num_layers=" + numLayers : "") + (layers.get(0)[2] == null ? ", bias=False" : "")
                + (batchFirst ? ", batch_first=True" : "");
    }
}
