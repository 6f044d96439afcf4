package dev.kiln.graph.opt;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.NamedTensor;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Folds a per-channel affine chain (add/sub/mul/div by constants, which is what eval-mode
 * batch norm becomes once its statistics are folded) into the preceding conv2d's weight and
 * bias: conv(x, W, b) * s + t = conv(x, W * s, b * s + t). The same for addmm (linear)
 * followed by per-column affine ops. Only with frozen parameters (inference): a trainable
 * weight must not absorb other parameters.
 */
public final class AffineFolding implements Pass {
    private final boolean freezeParams;

    public AffineFolding(boolean freezeParams) { this.freezeParams = freezeParams; }

    @Override
    public String name() { return "bnfold"; }

    @Override
    public PassResult run(Graph g) {
        if (!freezeParams) return PassResult.unchanged(g);
        Map<Value, Strided> known = new HashMap<>();
        for (NamedTensor c : g.constants()) if (c.data() != null) known.put(Value.constant(c.name()), c.data());
        for (NamedTensor p : g.params()) if (p.data() != null) known.put(Value.param(p.name()), p.data());
        Map<Value, List<Node>> users = g.users();
        Set<Value> outputs = new HashSet<>(g.outputs());

        GraphRewriter r = new GraphRewriter(g);
        Set<Integer> consumed = new HashSet<>();
        int folded = 0;
        for (Node n : g.nodes()) {
            if (consumed.contains(n.id())) continue;
            Folding f = match(n, known, users, outputs, r);
            if (f == null) {
                r.keep(n);
                continue;
            }
            Value w = r.b.addConstant("bnfold" + n.id() + "_w", f.weight.type, f.weight.data);
            Value b = r.b.addConstant("bnfold" + n.id() + "_b", f.bias.type, f.bias.data);
            Value out = n.op() == Op.CONV2D
                    ? r.add(Op.CONV2D, n.attrs(), n.source(), r.map(n.inputs().get(0)), w, b)
                    : r.add(Op.ADDMM, Attrs.EMPTY, n.source(), b, r.map(n.inputs().get(1)), w);
            for (Node c : f.chain) consumed.add(c.id());
            r.replace(f.chain.get(f.chain.size() - 1), out);
            folded += f.chain.size();
        }
        if (folded == 0) return PassResult.unchanged(g);
        return new PassResult(r.finish(), true, Map.of("affine ops folded into conv/linear", folded));
    }

    private record Tensor(TensorType type, Strided data) {}

    private record Folding(List<Node> chain, Tensor weight, Tensor bias) {}

    /** The chain after a conv2d/addmm that can be folded, with the new weight and bias; or null. */
    private Folding match(Node n, Map<Value, Strided> known, Map<Value, List<Node>> users, Set<Value> outputs, GraphRewriter r) {
        boolean conv = n.op() == Op.CONV2D;
        if (!conv && n.op() != Op.ADDMM) return null;
        if (n.type().dtype() != DType.FLOAT32) return null;
        Value wv = conv ? n.inputs().get(1) : n.inputs().get(2);
        Value bv = conv ? (n.inputs().size() > 2 ? n.inputs().get(2) : null) : n.inputs().get(0);
        Strided w = known.get(wv), b = bv == null ? null : known.get(bv);
        if (w == null || (bv != null && b == null)) return null;
        int channels = conv ? w.shape()[0] : w.shape()[1];
        if (!conv && b.rank() > 1 && b.shape()[0] != 1) return null; // a per-row bias is not per-channel
        double[] scale = new double[channels], shift = new double[channels];
        java.util.Arrays.fill(scale, 1);
        if (b != null) {
            double[] bd = perChannel(b, channels, conv ? 0 : b.rank() - 1);
            if (bd == null) return null;
            shift = bd;
        }
        List<Node> chain = new ArrayList<>();
        Value cur = n.output();
        while (true) {
            if (outputs.contains(cur) || r.pinned(cur)) break;
            List<Node> us = users.getOrDefault(cur, List.of());
            if (us.size() != 1) break;
            Node u = us.get(0);
            if (!u.type().equals(n.type())) break;
            Op op = u.op();
            if (op != Op.ADD && op != Op.SUB && op != Op.MUL && op != Op.DIV) break;
            boolean first = u.inputs().get(0).equals(cur);
            Value other = u.inputs().get(first ? 1 : 0);
            if (other.equals(cur) || (!first && (op == Op.SUB || op == Op.DIV))) break;
            Strided od = known.get(other);
            if (od == null) break;
            double[] o = perChannelOperand(od, channels, conv, n.type().rank());
            if (o == null) break;
            for (int c = 0; c < channels; c++) {
                switch (op) {
                    case ADD -> shift[c] += o[c];
                    case SUB -> shift[c] -= o[c];
                    case MUL -> { scale[c] *= o[c]; shift[c] *= o[c]; }
                    default -> { scale[c] /= o[c]; shift[c] /= o[c]; }
                }
            }
            chain.add(u);
            cur = u.output();
        }
        if (chain.isEmpty()) return null;
        // the new weight: W scaled per output channel (dim 0 of a conv weight, dim 1 of addmm's [in, out])
        Strided wf = Copy.toContiguous(w, DType.FLOAT32);
        float[] wd = wf.storage().f32();
        int inner = wd.length / channels;
        for (int i = 0; i < wd.length; i++) {
            int c = conv ? i / inner : i % channels;
            wd[i] = (float) (wd[i] * scale[c]);
        }
        float[] bias = new float[channels];
        for (int c = 0; c < channels; c++) bias[c] = (float) shift[c];
        Strided bs = Strided.contiguous(dev.kiln.backend.Storage.wrap(bias), new int[] {channels});
        return new Folding(chain, new Tensor(TensorType.of(DType.FLOAT32, wf.shape()), wf), new Tensor(TensorType.of(DType.FLOAT32, channels), bs));
    }

    /** A bias/operand as one value per channel along dim d (all other dims 1), or null. */
    private static double[] perChannel(Strided t, int channels, int d) {
        int[] s = t.shape();
        for (int i = 0; i < s.length; i++) if (i != d && s[i] != 1) return null;
        int n = s.length == 0 || d < 0 ? 1 : s[d];
        if (n != channels && n != 1) return null;
        double[] v = Copy.toContiguous(t, DType.FLOAT64).storage().f64();
        double[] out = new double[channels];
        for (int c = 0; c < channels; c++) out[c] = v[n == 1 ? 0 : c];
        return out;
    }

    /**
     * An operand broadcast against [N, C, H, W] (conv) or [N, C] (linear) that varies only
     * along the channel dim: its channel dim sits at rank-3 (conv) or rank-1 (linear) from
     * the end, aligned to the output's rank.
     */
    private static double[] perChannelOperand(Strided t, int channels, boolean conv, int outRank) {
        int r = t.rank();
        if (r > outRank) return null;
        int fromEnd = conv ? 3 : 1;
        int d = r - fromEnd;
        if (d < 0) {
            // no channel dim: must be a broadcast scalar
            for (int x : t.shape()) if (x != 1) return null;
            return perChannel(t, channels, -1);
        }
        return perChannel(t, channels, d);
    }
}
