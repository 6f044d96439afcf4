package dev.kiln.graph;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.backend.shape.TensorType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What {@code cond}, {@code while_loop} and {@code scan} compute, written once: the reference
 * interpreter and the compiled executor both call it, each with its own way of running a body
 * (interpreted, or a plan compiled once and reused every step).
 */
public final class ControlFlowSemantics {
    private ControlFlowSemantics() {}

    /** Runs body {@code index} of the node on these inputs. */
    @FunctionalInterface
    public interface Bodies {
        List<Strided> run(int index, List<Strided> inputs);
    }

    /**
     * The node's outputs for these inputs; {@code outTypes} are its output types with this run's
     * sizes (a scan of length 0 still returns ys of the right shape).
     */
    public static Strided[] run(Node n, Strided[] in, TensorType[] outTypes, Bodies bodies) {
        return switch (n.op()) {
            case COND -> cond(in, bodies);
            case WHILE_LOOP -> whileLoop(n, in, bodies);
            case SCAN -> scan(n, in, outTypes, bodies);
            default -> throw new IllegalArgumentException(n.op().opName() + " is not a control-flow op");
        };
    }

    /** A 0-d predicate's truth: nonzero (NaN counts as true, as in Python and PyTorch). */
    public static boolean truth(Strided pred) {
        double v = Copy.toContiguous(pred, DType.FLOAT64).storage().f64()[0];
        return v != 0;
    }

    private static Strided[] cond(Strided[] in, Bodies bodies) {
        List<Strided> operands = Arrays.asList(in).subList(1, in.length);
        return bodies.run(truth(in[0]) ? 0 : 1, operands).toArray(new Strided[0]);
    }

    private static Strided[] whileLoop(Node n, Strided[] in, Bodies bodies) {
        int k = n.attrs().getInt("captures");
        int c = in.length - k;
        List<Strided> state = new ArrayList<>(Arrays.asList(in));
        while (truth(bodies.run(0, state).get(0))) {
            // a loop from an untrusted artifact may never end: it stops when its thread is
            // interrupted (a server's request timeout, a cancelled task)
            if (Thread.currentThread().isInterrupted()) {
                throw new IllegalStateException(n.describe() + ": interrupted while looping");
            }
            List<Strided> next = bodies.run(1, state);
            for (int i = 0; i < c; i++) state.set(i, next.get(i));
        }
        return state.subList(0, c).toArray(new Strided[0]);
    }

    private static Strided[] scan(Node n, Strided[] in, TensorType[] outTypes, Bodies bodies) {
        ControlFlowTypes.ScanLayout l = ControlFlowTypes.ScanLayout.of(n);
        int c = l.carries(), x = l.xs(), dim = l.dim();
        int length = in[c].shape()[dim];
        Strided[] out = new Strided[outTypes.length];
        int ys = out.length - c;
        for (int j = 0; j < ys; j++) out[c + j] = Strided.allocate(outTypes[c + j].dtype(), outTypes[c + j].concreteShape());
        List<Strided> step = new ArrayList<>(Arrays.asList(in));
        for (int i = c; i < c + x; i++) step.set(i, null);
        for (int s = 0; s < length; s++) {
            int t = l.reverse() ? length - 1 - s : s;
            for (int i = c; i < c + x; i++) step.set(i, contiguous(select(in[i], dim, t)));
            List<Strided> r = bodies.run(0, step);
            for (int i = 0; i < c; i++) step.set(i, r.get(i));
            for (int j = 0; j < ys; j++) Copy.copyInto(r.get(c + j), select(out[c + j], dim, t));
        }
        for (int i = 0; i < c; i++) out[i] = step.get(i);
        return out;
    }

    /** The view of x at index t of dim d (that dim removed). */
    public static Strided select(Strided x, int d, int t) {
        int[] shape = x.shape(), strides = x.strides();
        int[] s = new int[shape.length - 1], st = new int[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (i == d) continue;
            s[j] = shape[i];
            st[j++] = strides[i];
        }
        return new Strided(x.storage(), s, st, x.offset() + t * strides[d]);
    }

    private static Strided contiguous(Strided x) { return x.isContiguous() ? x : Copy.toContiguous(x, x.dtype()); }
}
