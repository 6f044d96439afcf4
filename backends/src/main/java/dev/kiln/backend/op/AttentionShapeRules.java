package dev.kiln.backend.op;

import dev.kiln.backend.DType;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.ShapeException;
import dev.kiln.backend.shape.Shapes;
import dev.kiln.backend.shape.TensorType;
import java.util.Arrays;

/**
 * Type rules of scaled dot-product attention: q [..., L, E], k [..., S, E], v [..., S, Ev] with
 * the same leading dims (any of them symbolic), an optional mask (bool: true attends; or an
 * additive float of q's dtype) that broadcasts to [..., L, S]; the output is [..., L, Ev]. The
 * gradient op returns the shape of the input it differentiates.
 */
public final class AttentionShapeRules {
    private AttentionShapeRules() {}

    public static TensorType attention(String op, TensorType[] in, Attrs a) {
        check(op, in[0], in[1], in[2], in.length > 3 ? in[3] : null);
        Dim[] q = in[0].shape(), v = in[2].shape();
        Dim[] out = q.clone();
        out[out.length - 1] = v[v.length - 1];
        return new TensorType(in[0].dtype(), out);
    }

    /** grad(q, k, v, out, gradOut[, mask]) with respect to q, k or v (attr "wrt"). */
    public static TensorType attentionGrad(String op, TensorType[] in, Attrs a) {
        check(op, in[0], in[1], in[2], in.length > 5 ? in[5] : null);
        TensorType o = attention(op, new TensorType[] {in[0], in[1], in[2]}, a);
        for (int i = 3; i <= 4; i++) {
            if (!in[i].equals(o)) throw new ShapeException(op + ": input " + i + " must be the attention's output type " + o + ", got " + in[i]);
        }
        return switch (a.getString("wrt")) {
            case "q" -> in[0];
            case "k" -> in[1];
            default -> in[2];
        };
    }

    /**
     * grad(q, k, v, gradOut[, mask]) with respect to all three, stacked [3, ...]: a self-attention,
     * q, k and v of one type (so dq, dk and dv share a shape).
     */
    public static TensorType attentionBackward(String op, TensorType[] in, Attrs a) {
        check(op, in[0], in[1], in[2], in.length > 4 ? in[4] : null);
        if (!in[1].equals(in[0]) || !in[2].equals(in[0])) {
            throw new ShapeException(op + ": q, k and v must have one type (a self-attention's; its gradients are stacked), got "
                    + in[0] + ", " + in[1] + ", " + in[2] + "; scaled_dot_product_attention_grad differentiates each input of other shapes");
        }
        if (!in[3].equals(in[0])) throw new ShapeException(op + ": input 3 must be the attention's output gradient, of type " + in[0] + ", got " + in[3]);
        Dim[] q = in[0].shape(), out = new Dim[q.length + 1];
        out[0] = Dim.of(3);
        System.arraycopy(q, 0, out, 1, q.length);
        return new TensorType(in[0].dtype(), out);
    }

    private static void check(String op, TensorType q, TensorType k, TensorType v, TensorType mask) {
        for (TensorType t : new TensorType[] {q, k, v}) {
            if (t.rank() < 2) throw new ShapeException(op + ": q, k and v need at least 2 dims ([..., L, E]), got " + t);
            ShapeRules.requireFloat(op, t);
        }
        if (k.dtype() != q.dtype() || v.dtype() != q.dtype()) throw new ShapeException(op + ": q, k and v must share a dtype, got " + q + ", " + k + ", " + v);
        if (k.rank() != q.rank() || v.rank() != q.rank()) throw new ShapeException(op + ": q, k and v must have the same rank, got " + q + ", " + k + ", " + v);
        int r = q.rank();
        Dim[] qs = q.shape(), ks = k.shape(), vs = v.shape();
        Dim[] batch = Arrays.copyOf(qs, r - 2);
        if (!Arrays.equals(batch, Arrays.copyOf(ks, r - 2)) || !Arrays.equals(batch, Arrays.copyOf(vs, r - 2))) {
            throw new ShapeException(op + ": q, k and v must have the same leading dims, got " + q + ", " + k + ", " + v);
        }
        if (!qs[r - 1].equals(ks[r - 1])) throw new ShapeException(op + ": q's and k's last dims (the embedding E) differ: " + q + " and " + k);
        if (!ks[r - 2].equals(vs[r - 2])) throw new ShapeException(op + ": k and v must have the same length S (dim " + (r - 2) + "): " + k + " and " + v);
        if (mask == null) return;
        if (mask.dtype() != DType.BOOL && mask.dtype() != q.dtype()) {
            throw new ShapeException(op + ": the mask must be bool (true attends) or an additive " + q.dtype().shortName() + " mask, got " + mask);
        }
        Dim[] scores = Arrays.copyOf(qs, r);
        scores[r - 1] = ks[r - 2];
        Dim[] b = Shapes.broadcast(op, mask.shape(), scores);
        if (!Arrays.equals(b, scores)) {
            throw new ShapeException(op + ": the mask " + mask + " does not broadcast to the scores' shape " + Shapes.toString(scores));
        }
    }
}
