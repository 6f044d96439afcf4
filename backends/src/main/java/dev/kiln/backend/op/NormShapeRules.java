package dev.kiln.backend.op;

import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.ShapeException;
import dev.kiln.backend.shape.TensorType;
import java.util.Arrays;

/** Type rules of layer_norm and its gradient. */
final class NormShapeRules {
    private NormShapeRules() {}

    /** layer_norm(x[, weight[, bias]]): x's type; weight and bias have the normalized (last {@code dims}) dims. */
    static TensorType layerNorm(String op, TensorType[] in, Attrs a) {
        TensorType x = in[0];
        Dim[] normalized = normalized(op, x, a);
        for (int i = 1; i < in.length; i++) affine(op, i == 1 ? "weight" : "bias", in[i], x, normalized);
        return x;
    }

    /**
     * layer_norm_grad(x, g[, weight]): the gradient of layer_norm's output g taken back to x (x's
     * type) or to its weight (the normalized dims).
     */
    static TensorType layerNormGrad(String op, TensorType[] in, Attrs a) {
        TensorType x = in[0];
        Dim[] normalized = normalized(op, x, a);
        if (!in[1].equals(x)) throw new ShapeException(op + ": the output gradient must have the input's type " + x + ", got " + in[1]);
        if (in.length > 2) affine(op, "weight", in[2], x, normalized);
        return a.getString("wrt").equals("x") ? x : new TensorType(x.dtype(), normalized);
    }

    private static Dim[] normalized(String op, TensorType x, Attrs a) {
        ShapeRules.requireFloat(op, x);
        int dims = a.getInt("dims");
        if (dims > x.rank()) {
            throw new ShapeException(op + ": normalizes the last " + dims + " dims, but the input " + x + " has " + x.rank());
        }
        return Arrays.copyOfRange(x.shape(), x.rank() - dims, x.rank());
    }

    private static void affine(String op, String name, TensorType t, TensorType x, Dim[] normalized) {
        if (t.dtype() != x.dtype()) throw new ShapeException(op + ": " + name + " " + t + " must have the input's dtype " + x.dtype().shortName());
        if (!Arrays.equals(t.shape(), normalized)) {
            throw new ShapeException(op + ": " + name + " " + t + " must have the normalized shape " + Arrays.toString(normalized) + " (the last dims of " + x + ")");
        }
    }
}
