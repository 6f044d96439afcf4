package dev.kiln.onnx;

import dev.kiln.eager.ControlFlow;
import dev.kiln.eager.Tensor;
import dev.kiln.onnx.OnnxModule.Env;
import dev.kiln.onnx.OnnxProto.Node;
import java.util.ArrayList;
import java.util.List;

/**
 * ONNX's LSTM and GRU operators: each direction's input projection for all steps is one matmul,
 * and the recurrence is a {@link ControlFlow#scan} over time (reversed for the backward
 * direction), so the imported graph keeps the sequence length symbolic, as the batch.
 */
final class OnnxRecurrent {
    private OnnxRecurrent() {}

    private record Common(Tensor x, Tensor w, Tensor r, Tensor b, Tensor h0, int hidden, int dirs, String direction, boolean batchFirst) {}

    private static Common common(Node n, Env env, int gates) {
        if (OnnxOps.present(n, 4)) throw OnnxOps.unsupported(n, "sequence_lens (every sequence must have the full length)");
        for (String a : new String[] {"activations", "activation_alpha", "activation_beta", "clip"}) {
            if (OnnxOps.attr(n, a) != null) throw OnnxOps.unsupported(n, "the '" + a + "' attribute (only the default activations)");
        }
        Tensor x = OnnxOps.x(n, env), w = OnnxOps.in(n, env, 1), r = OnnxOps.in(n, env, 2), b = OnnxOps.opt(n, env, 3);
        Tensor h0 = OnnxOps.opt(n, env, 5);
        boolean batchFirst = OnnxOps.attrInt(n, "layout", 0) != 0;
        if (batchFirst) x = x.transpose(0, 1);
        String direction = OnnxOps.attrString(n, "direction", "forward");
        int dirs = direction.equals("bidirectional") ? 2 : 1;
        int hidden = (int) OnnxOps.attrInt(n, "hidden_size", w.data().shape()[1] / gates);
        if (x.data().shape()[0] == 0) throw new OnnxException(n.label() + ": a sequence of length 0");
        if (h0 != null && batchFirst) h0 = h0.transpose(0, 1);
        return new Common(x, w, r, b, h0, hidden, dirs, direction, batchFirst);
    }

    /** A zero state [N, H] shaped from the input, so the batch stays symbolic. */
    private static Tensor zeros(Tensor x, int hidden) { return Tensor.zerosLike(x.select(0, 0).narrow(1, 0, 1)).expand(-1, hidden); }

    static Object[] lstm(Node n, Env env) {
        if (OnnxOps.present(n, 7)) throw OnnxOps.unsupported(n, "peephole weights (P)");
        if (OnnxOps.attrInt(n, "input_forget", 0) != 0) throw OnnxOps.unsupported(n, "input_forget=1");
        Common c = common(n, env, 4);
        Tensor c0 = OnnxOps.opt(n, env, 6);
        if (c0 != null && c.batchFirst()) c0 = c0.transpose(0, 1);
        int h = c.hidden();
        List<Tensor> ys = new ArrayList<>(), hs = new ArrayList<>(), cs = new ArrayList<>();
        for (int d = 0; d < c.dirs(); d++) {
            boolean reverse = c.direction().equals("reverse") || d == 1;
            Tensor w = c.w().select(0, d), r = c.r().select(0, d);
            Tensor proj = c.x().matmul(w.t()); // [T, N, 4H]
            if (c.b() != null) {
                Tensor bd = c.b().select(0, d);
                proj = proj.add(bd.narrow(0, 0, 4 * h).add(bd.narrow(0, 4 * h, 4 * h)));
            }
            Tensor hPrev = c.h0() != null ? c.h0().select(0, d) : zeros(c.x(), h);
            Tensor cPrev = c0 != null ? c0.select(0, d) : zeros(c.x(), h);
            ControlFlow.ScanOutput res = ControlFlow.scan((st, xt) -> {
                Tensor g = xt[0].add(st[0].matmul(r.t()));
                // ONNX's gate order: input, output, forget, cell
                Tensor it = g.narrow(1, 0, h).sigmoid(), ot = g.narrow(1, h, h).sigmoid(), ft = g.narrow(1, 2 * h, h).sigmoid(), ct = g.narrow(1, 3 * h, h).tanh();
                Tensor cNext = ft.mul(st[1]).add(it.mul(ct));
                Tensor hNext = ot.mul(cNext.tanh());
                return ControlFlow.ScanOutput.of(new Tensor[] {hNext, cNext}, hNext);
            }, new Tensor[] {hPrev, cPrev}, new Tensor[] {proj}, 0, reverse);
            ys.add(res.y(0)); // [T, N, H]
            hs.add(res.carry(0));
            cs.add(res.carry(1));
        }
        return outputs(c, ys, hs, cs);
    }

    static Object[] gru(Node n, Env env) {
        Common c = common(n, env, 3);
        boolean linearBeforeReset = OnnxOps.attrInt(n, "linear_before_reset", 0) != 0;
        int h = c.hidden();
        List<Tensor> ys = new ArrayList<>(), hs = new ArrayList<>();
        for (int d = 0; d < c.dirs(); d++) {
            boolean reverse = c.direction().equals("reverse") || d == 1;
            Tensor w = c.w().select(0, d), r = c.r().select(0, d);
            Tensor proj = c.x().matmul(w.t()); // [T, N, 3H]
            Tensor rb = null;
            if (c.b() != null) {
                Tensor bd = c.b().select(0, d);
                proj = proj.add(bd.narrow(0, 0, 3 * h));
                rb = bd.narrow(0, 3 * h, 3 * h);
            }
            Tensor hPrev = c.h0() != null ? c.h0().select(0, d) : zeros(c.x(), h);
            Tensor rbias = rb;
            ControlFlow.ScanOutput res = ControlFlow.scan((st, xt) -> {
                Tensor xp = xt[0], hp = st[0];
                // ONNX's gate order: update (z), reset (r), hidden (h)
                Tensor rz = hp.matmul(r.narrow(0, 0, 2 * h).t());
                if (rbias != null) rz = rz.add(rbias.narrow(0, 0, 2 * h));
                Tensor z = xp.narrow(1, 0, h).add(rz.narrow(1, 0, h)).sigmoid();
                Tensor reset = xp.narrow(1, h, h).add(rz.narrow(1, h, h)).sigmoid();
                Tensor rh = r.narrow(0, 2 * h, h);
                Tensor hh;
                if (linearBeforeReset) {
                    Tensor lin = hp.matmul(rh.t());
                    if (rbias != null) lin = lin.add(rbias.narrow(0, 2 * h, h));
                    hh = xp.narrow(1, 2 * h, h).add(reset.mul(lin)).tanh();
                } else {
                    Tensor lin = reset.mul(hp).matmul(rh.t());
                    if (rbias != null) lin = lin.add(rbias.narrow(0, 2 * h, h));
                    hh = xp.narrow(1, 2 * h, h).add(lin).tanh();
                }
                Tensor hNext = z.rsub(1.0).mul(hh).add(z.mul(hp));
                return ControlFlow.ScanOutput.of(new Tensor[] {hNext}, hNext);
            }, new Tensor[] {hPrev}, new Tensor[] {proj}, 0, reverse);
            ys.add(res.y(0));
            hs.add(res.carry(0));
        }
        return outputs(c, ys, hs, null);
    }

    /** Y [T, D, N, H] (layout 0) or [N, T, D, H] (layout 1); Y_h and Y_c [D, N, H] or [N, D, H]. */
    private static Object[] outputs(Common c, List<Tensor> ys, List<Tensor> hs, List<Tensor> cs) {
        Tensor y = Tensor.stack(ys, 1); // [T, D, N, H]
        Tensor yh = Tensor.stack(hs, 0);
        Tensor yc = cs == null ? null : Tensor.stack(cs, 0);
        if (c.batchFirst()) {
            y = y.permute(2, 0, 1, 3);
            yh = yh.transpose(0, 1);
            if (yc != null) yc = yc.transpose(0, 1);
        }
        return yc == null ? new Object[] {y, yh} : new Object[] {y, yh, yc};
    }
}
