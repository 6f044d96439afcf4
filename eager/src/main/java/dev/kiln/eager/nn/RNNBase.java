package dev.kiln.eager.nn;

import dev.kiln.backend.shape.Shapes;
import dev.kiln.eager.ControlFlow;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.nn.init.Init;
import java.util.ArrayList;
import java.util.List;

/**
 * The multi-layer recurrent networks (RNN, GRU, LSTM) share PyTorch's layout: per layer and
 * direction weight_ih_l{k}[_reverse] [G*H, in], weight_hh_l{k}[_reverse] [G*H, H] and the two
 * biases, G gates stacked in PyTorch's order, every parameter uniform in ±1/sqrt(H). A layer
 * projects all time steps' inputs in one matmul and runs the hidden recurrence as a
 * {@link ControlFlow#scan} over time (reversed for the backward direction); a bidirectional layer
 * concatenates the forward and the reversed pass on the feature dim, and the final states are
 * ordered layer-major, forward before reverse, as in PyTorch.
 *
 * <p>Traced, each layer's recurrence is one scan node, so the graph runs at any sequence length;
 * a traced training step (traceStep) differentiates it as a reverse scan, so it does too.
 */
public abstract class RNNBase extends Module {
    public final int inputSize, hiddenSize, numLayers;
    public final boolean bias, batchFirst, bidirectional;
    public final double dropout;
    private final int gates;
    /** [layer * directions + direction] -> {w_ih, w_hh, b_ih, b_hh} */
    private final List<Tensor[]> cells = new ArrayList<>();

    RNNBase(int gates, int inputSize, int hiddenSize, int numLayers, boolean bias, boolean batchFirst, double dropout, boolean bidirectional) {
        if (inputSize < 1 || hiddenSize < 1 || numLayers < 1)
            throw new IllegalArgumentException(getClass().getSimpleName() + ": input_size, hidden_size and num_layers must be positive, got "
                    + inputSize + ", " + hiddenSize + ", " + numLayers);
        if (!(dropout >= 0 && dropout <= 1)) throw new IllegalArgumentException(getClass().getSimpleName() + ": dropout must be in [0, 1], got " + dropout);
        this.gates = gates;
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        this.numLayers = numLayers;
        this.bias = bias;
        this.batchFirst = batchFirst;
        this.dropout = dropout;
        this.bidirectional = bidirectional;
        double k = 1 / Math.sqrt(hiddenSize);
        for (int l = 0; l < numLayers; l++) {
            int in = l == 0 ? inputSize : hiddenSize * directions();
            for (int d = 0; d < directions(); d++) {
                String sfx = "_l" + l + (d == 1 ? "_reverse" : "");
                Tensor[] p = {
                    registerParameter("weight_ih" + sfx, Tensor.zeros(gates * hiddenSize, in)),
                    registerParameter("weight_hh" + sfx, Tensor.zeros(gates * hiddenSize, hiddenSize)),
                    registerParameter("bias_ih" + sfx, bias ? Tensor.zeros(gates * hiddenSize) : null),
                    registerParameter("bias_hh" + sfx, bias ? Tensor.zeros(gates * hiddenSize) : null)};
                for (Tensor t : p) if (t != null) Init.uniform_(t, -k, k);
                cells.add(p);
            }
        }
    }

    public final int directions() { return bidirectional ? 2 : 1; }

    /** One time step of this network's cell: xProj = x W_ih^T + b_ih, state {h} or {h, c}. */
    abstract Tensor[] step(Tensor xProj, Tensor[] state, Tensor whh, Tensor bhh);

    /** How many state tensors the cell carries (LSTM: h and c). */
    int stateCount() { return 1; }

    /**
     * Runs the network. {@code init} holds the initial states, each [numLayers * directions, N, H],
     * or nulls for zeros. Returns the output sequence followed by the final states.
     */
    final Tensor[] runLayers(Tensor x, Tensor... init) {
        if (x.dim() == 2) {
            // unbatched [T, in] with states [L*D, H], as PyTorch: run as a batch of one
            Tensor[] batchedInit = new Tensor[init.length];
            for (int i = 0; i < init.length; i++) {
                if (init[i] != null && init[i].dim() != 2)
                    throw new IllegalArgumentException(describe() + ": an unbatched input takes 2-D initial states [" + numLayers * directions() + "," + hiddenSize
                            + "], got " + Shapes.toString(init[i].data().shape()));
                batchedInit[i] = init[i] == null ? null : init[i].unsqueeze(1);
            }
            Tensor[] r = runLayers(x.unsqueeze(batchFirst ? 0 : 1), batchedInit);
            r[0] = r[0].squeeze(batchFirst ? 0 : 1);
            for (int i = 1; i < r.length; i++) r[i] = r[i].squeeze(1);
            return r;
        }
        String layout = batchFirst ? "[N,T," + inputSize + "] or unbatched [T," + inputSize + "]" : "[T,N," + inputSize + "] or unbatched [T," + inputSize + "]";
        int[] xs = x.data().shape();
        if (xs.length != 3 || xs[2] != inputSize) throw badInput(layout, x);
        int states = numLayers * directions();
        for (Tensor s : init) {
            if (s == null) continue;
            int[] ss = s.data().shape();
            if (ss.length != 3 || ss[0] != states || ss[1] != xs[batchFirst ? 0 : 1] || ss[2] != hiddenSize)
                throw new IllegalArgumentException(describe() + ": expected initial state [" + states + "," + xs[batchFirst ? 0 : 1] + "," + hiddenSize
                        + "] for input " + Shapes.toString(xs) + ", got " + Shapes.toString(ss));
        }
        Tensor seq = batchFirst ? x.transpose(0, 1) : x; // [T, N, in]
        // a check, not a size the computation uses: the scan below reads the length itself
        if (seq.data().shape()[0] == 0) throw new IllegalArgumentException(describe() + ": expected a sequence length above 0, got input " + Shapes.toString(xs));
        // zero state derived from the input rather than Tensor.zeros(n, H): a literal batch size
        // would pin the batch when the model is traced with a symbolic one
        Tensor zero = Tensor.zerosLike(seq.select(0, 0).narrow(1, 0, 1)).expand(-1, hiddenSize);
        List<List<Tensor>> finals = new ArrayList<>();
        for (int s = 0; s < stateCount(); s++) finals.add(new ArrayList<>());
        for (int l = 0; l < numLayers; l++) {
            if (l > 0) seq = F.dropout(seq, dropout, isTraining());
            Tensor[] outs = new Tensor[directions()];
            for (int d = 0; d < directions(); d++) {
                Tensor[] p = cells.get(l * directions() + d);
                Tensor[] state = new Tensor[stateCount()];
                for (int s = 0; s < state.length; s++) state[s] = init.length > s && init[s] != null ? init[s].select(0, l * directions() + d) : zero;
                Tensor proj = RecurrentCells.input(seq, p[0], p[2]);
                ControlFlow.ScanOutput r = ControlFlow.scan((st, xt) -> {
                    Tensor[] next = step(xt[0], st, p[1], p[3]);
                    return ControlFlow.ScanOutput.of(next, next[0]);
                }, state, new Tensor[] {proj}, 0, d == 1);
                outs[d] = r.y(0);
                for (int s = 0; s < state.length; s++) finals.get(s).add(r.carry(s));
            }
            seq = directions() == 1 ? outs[0] : Tensor.cat(2, outs[0], outs[1]);
        }
        Tensor[] result = new Tensor[1 + stateCount()];
        result[0] = batchFirst ? seq.transpose(0, 1) : seq;
        for (int s = 0; s < stateCount(); s++) result[1 + s] = Tensor.stack(finals.get(s), 0);
        return result;
    }

    @Override
    public Tensor forward(Tensor x) { return runLayers(x)[0]; }

    @Override
    protected String extraRepr() {
        return inputSize + ", " + hiddenSize + (numLayers != 1 ? ", num_layers=" + numLayers : "") + (bias ? "" : ", bias=False")
                + (batchFirst ? ", batch_first=True" : "") + (dropout != 0 ? ", dropout=" + dropout : "") + (bidirectional ? ", bidirectional=True" : "");
    }
}
