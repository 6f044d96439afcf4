package dev.kiln.graph.exec;

import dev.kiln.backend.shape.Shapes;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.util.function.Function;

/**
 * Rough floating-point operation counts for explain(): 2*m*n*k for products, a handful per
 * element for softmax, one per element for other compute, none for views. Enough to see
 * where a plan's time should go, not a cost model.
 */
final class Flops {
    private Flops() {}

    static long estimate(Node n, Function<Value, int[]> shapeOf) {
        long out = Shapes.numel(shapeOf.apply(n.output()));
        return switch (n.op()) {
            case MATMUL, ADDMM -> {
                int[] a = shapeOf.apply(n.inputs().get(n.op() == dev.kiln.backend.op.Op.ADDMM ? 1 : 0));
                long k = a.length == 0 ? 1 : a[a.length - 1];
                yield 2 * out * k + (n.op() == dev.kiln.backend.op.Op.ADDMM ? out : 0);
            }
            case CONV2D -> {
                // every output element is a dot product over (C_in / groups) * kh * kw weights
                int[] w = shapeOf.apply(n.inputs().get(1));
                yield 2 * out * ((long) w[1] * w[2] * w[3]);
            }
            case SOFTMAX, LOG_SOFTMAX -> 4 * out;
            case SUM, PROD, AMAX, AMIN, ALL, ANY, ARGMAX, ARGMIN, CUMSUM -> Shapes.numel(shapeOf.apply(n.inputs().get(0)));
            default -> n.op().def().isView() ? 0 : out;
        };
    }

    static String human(long f) {
        if (f >= 1_000_000_000) return String.format("%.2fG", f / 1e9);
        if (f >= 1_000_000) return String.format("%.2fM", f / 1e6);
        if (f >= 1_000) return String.format("%.1fk", f / 1e3);
        return Long.toString(f);
    }

    static String bytes(long b) {
        if (b >= 1 << 20) return String.format("%.2f MiB", b / 1048576.0);
        if (b >= 1 << 10) return String.format("%.1f KiB", b / 1024.0);
        return b + " B";
    }
}
