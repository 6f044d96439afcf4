package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import java.util.List;

/**
 * One time step of PyTorch's recurrent cells, written once for the cell modules and the
 * multi-layer ones. {@code xProj} is the input's projection {@code x W_ih^T + b_ih} (the layers
 * compute it for every step in one matmul); the hidden projection is done here.
 */
final class RecurrentCells {
    private RecurrentCells() {}

    /** h' = act(xProj + h W_hh^T + b_hh), act tanh or relu. */
    static Tensor rnn(Tensor xProj, Tensor h, Tensor whh, Tensor bhh, boolean relu) {
        Tensor pre = xProj.add(hidden(h, whh, bhh));
        return relu ? pre.relu() : pre.tanh();
    }

    /**
     * GRU, gates r, z, n in PyTorch's order: r and z from the summed projections,
     * n = tanh(x_n + r * (h W_hn^T + b_hn)), h' = (1 - z) * n + z * h.
     */
    static Tensor gru(Tensor xProj, Tensor h, Tensor whh, Tensor bhh) {
        List<Tensor> xs = xProj.chunk(3, -1), hs = hidden(h, whh, bhh).chunk(3, -1);
        Tensor r = xs.get(0).add(hs.get(0)).sigmoid(), z = xs.get(1).add(hs.get(1)).sigmoid();
        Tensor n = xs.get(2).add(r.mul(hs.get(2))).tanh();
        return z.rsub(1.0).mul(n).add(z.mul(h));
    }

    /** LSTM, gates i, f, g, o in PyTorch's order; returns {h', c'}. */
    static Tensor[] lstm(Tensor xProj, Tensor h, Tensor c, Tensor whh, Tensor bhh) {
        List<Tensor> g = xProj.add(hidden(h, whh, bhh)).chunk(4, -1);
        Tensor i = g.get(0).sigmoid(), f = g.get(1).sigmoid(), cell = g.get(2).tanh(), o = g.get(3).sigmoid();
        Tensor c2 = f.mul(c).add(i.mul(cell));
        return new Tensor[] {o.mul(c2.tanh()), c2};
    }

    private static Tensor hidden(Tensor h, Tensor whh, Tensor bhh) {
        Tensor p = h.matmul(whh.t());
        return bhh == null ? p : p.add(bhh);
    }

    /** x W_ih^T + b_ih */
    static Tensor input(Tensor x, Tensor wih, Tensor bih) {
        Tensor p = x.matmul(wih.t());
        return bih == null ? p : p.add(bih);
    }
}
