package dev.kiln.eager.nn;

import dev.kiln.backend.shape.Shapes;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.init.Init;

/**
 * The single-step cells (RNNCell, GRUCell, LSTMCell): PyTorch's weight_ih [G*H, in], weight_hh
 * [G*H, H], bias_ih and bias_hh, uniform in ±1/sqrt(H). Input [N, in] or unbatched [in]; a
 * missing state is zeros.
 */
public abstract class RNNCellBase extends Module {
    public final int inputSize, hiddenSize;
    public final boolean bias;
    final Tensor weightIh, weightHh, biasIh, biasHh;

    RNNCellBase(int gates, int inputSize, int hiddenSize, boolean bias) {
        if (inputSize < 1 || hiddenSize < 1)
            throw new IllegalArgumentException(getClass().getSimpleName() + ": input_size and hidden_size must be positive, got " + inputSize + ", " + hiddenSize);
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        this.bias = bias;
        weightIh = registerParameter("weight_ih", Tensor.zeros(gates * hiddenSize, inputSize));
        weightHh = registerParameter("weight_hh", Tensor.zeros(gates * hiddenSize, hiddenSize));
        biasIh = registerParameter("bias_ih", bias ? Tensor.zeros(gates * hiddenSize) : null);
        biasHh = registerParameter("bias_hh", bias ? Tensor.zeros(gates * hiddenSize) : null);
        double k = 1 / Math.sqrt(hiddenSize);
        for (Tensor t : new Tensor[] {weightIh, weightHh, biasIh, biasHh}) if (t != null) Init.uniform_(t, -k, k);
    }

    /** Checks x and a state against each other; returns x batched ([1, in] for an unbatched input). */
    final Tensor batched(Tensor x, Tensor... states) {
        int[] xs = x.data().shape();
        if ((xs.length != 1 && xs.length != 2) || xs[xs.length - 1] != inputSize) throw badInput("[N," + inputSize + "] or [" + inputSize + "]", x);
        for (Tensor s : states) {
            if (s == null) continue;
            int[] ss = s.data().shape();
            boolean ok = ss.length == xs.length && ss[ss.length - 1] == hiddenSize && (xs.length == 1 || ss[0] == xs[0]);
            if (!ok) throw new IllegalArgumentException(describe() + ": expected state " + (xs.length == 1 ? "[" + hiddenSize + "]" : "[" + xs[0] + "," + hiddenSize + "]")
                    + " for input " + Shapes.toString(xs) + ", got " + Shapes.toString(ss));
        }
        return xs.length == 1 ? x.unsqueeze(0) : x;
    }

    /** The state as [N, H]: zeros shaped from x when absent (no literal batch size to pin a trace). */
    final Tensor stateOf(Tensor s, Tensor xb) {
        if (s != null) return s.dim() == 1 ? s.unsqueeze(0) : s;
        return Tensor.zerosLike(xb.narrow(1, 0, 1)).expand(-1, hiddenSize);
    }

    /** Undoes {@link #batched} on a result. */
    static Tensor unbatched(Tensor x, Tensor r) { return x.data().shape().length == 1 ? r.squeeze(0) : r; }

    @Override
    protected String extraRepr() { return inputSize + ", " + hiddenSize + (bias ? "" : ", bias=False"); }
}
