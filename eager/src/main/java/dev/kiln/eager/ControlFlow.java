package dev.kiln.eager;

import dev.kiln.backend.shape.Shapes;
import dev.kiln.eager.autograd.Autograd;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Structured control flow: {@code cond}, {@code whileLoop} and {@code scan} (PyTorch's
 * {@code torch.cond}, {@code torch.while_loop} and {@code scan}; JAX's {@code lax.cond},
 * {@code lax.while_loop} and {@code lax.scan}). Eagerly they just run the Java lambdas, and
 * gradients flow through the ops the lambdas ran. Under the tracer each becomes one graph node
 * holding the lambdas traced as subgraphs, so a loop over a dynamic sequence length stays
 * symbolic instead of being unrolled at the trace's length.
 *
 * <p>The lambdas must be pure functions of their arguments and of tensors they capture: no
 * in-place writes to captured tensors, no reads of traced values into Java. A branch or step is
 * traced once, whatever the run takes.
 */
public final class ControlFlow {
    private ControlFlow() {}

    /** One scan step's result, and a whole scan's: the carries and the per-step outputs (ys). */
    public record ScanOutput(Tensor[] carries, Tensor[] ys) {
        public ScanOutput {
            carries = carries.clone();
            ys = ys.clone();
        }

        public static ScanOutput of(Tensor[] carries, Tensor... ys) { return new ScanOutput(carries, ys); }

        public Tensor carry(int i) { return carries[i]; }

        public Tensor y(int i) { return ys[i]; }
    }

    /** A scan step: (carries, the xs' slices at this step) to (new carries, this step's ys). */
    @FunctionalInterface
    public interface ScanFn {
        ScanOutput apply(Tensor[] carries, Tensor[] xs);
    }

    /** A call as the tracer sees it: which construct, its lambdas and operands, and how to run it eagerly. */
    public sealed interface Call permits Cond, While, Scan {
        /** The plain eager evaluation (what runs without a tracer). */
        Tensor[] runEagerly();
    }

    public record Cond(Tensor pred, Function<Tensor[], Tensor[]> then, Function<Tensor[], Tensor[]> otherwise, Tensor[] operands) implements Call {
        @Override
        public Tensor[] runEagerly() {
            checkPredicate("cond", pred);
            boolean taken = pred.item() != 0;
            return requireTensors("cond: the " + (taken ? "then" : "else") + " branch", (taken ? then : otherwise).apply(operands.clone()));
        }
    }

    public record While(Function<Tensor[], Tensor> cond, Function<Tensor[], Tensor[]> body, Tensor[] carries) implements Call {
        @Override
        public Tensor[] runEagerly() {
            Tensor[] state = carries.clone();
            for (int step = 0; ; step++) {
                Tensor c = cond.apply(state.clone());
                if (c == null) throw new IllegalArgumentException("whileLoop: the cond function returned null");
                checkPredicate("whileLoop: the cond function's result", c);
                if (c.item() == 0) return state;
                Tensor[] next = requireTensors("whileLoop: the body", body.apply(state.clone()));
                checkCarries("whileLoop: iteration " + step + " of the body", state, next);
                state = next;
            }
        }
    }

    public record Scan(ScanFn fn, Tensor[] init, Tensor[] xs, int dim, boolean reverse) implements Call {
        @Override
        public Tensor[] runEagerly() {
            int length = length(xs, dim);
            Tensor[] carries = init.clone();
            List<List<Tensor>> ys = null;
            if (length == 0) return emptyScan();
            for (int s = 0; s < length; s++) {
                int t = reverse ? length - 1 - s : s;
                Tensor[] slices = new Tensor[xs.length];
                for (int j = 0; j < xs.length; j++) slices[j] = xs[j].select(dim, t);
                ScanOutput r = fn.apply(carries.clone(), slices);
                if (r == null) throw new IllegalArgumentException("scan: step " + t + " returned null");
                requireTensors("scan: step " + t + "'s carries", r.carries());
                requireTensors("scan: step " + t + "'s ys", r.ys());
                checkCarries("scan: step " + t, carries, r.carries());
                if (ys == null) {
                    ys = new ArrayList<>();
                    for (int j = 0; j < r.ys().length; j++) ys.add(new ArrayList<>());
                } else if (r.ys().length != ys.size()) {
                    throw new IllegalArgumentException("scan: step " + t + " returned " + r.ys().length + " ys, an earlier step " + ys.size());
                }
                for (int j = 0; j < r.ys().length; j++) ys.get(j).add(r.ys()[j]);
                carries = r.carries();
            }
            Tensor[] out = Arrays.copyOf(carries, carries.length + ys.size());
            for (int j = 0; j < ys.size(); j++) {
                List<Tensor> yj = ys.get(j);
                if (reverse) java.util.Collections.reverse(yj);
                out[carries.length + j] = Tensor.stack(yj, dim);
            }
            return out;
        }

        /**
         * Length 0: the carries come back unchanged and each y is empty along dim. The ys' other
         * sizes come from one step run on zero slices, with no gradient, its values discarded.
         */
        private Tensor[] emptyScan() {
            ScanOutput probe;
            try (var ignored = Autograd.noGrad()) {
                Tensor[] slices = new Tensor[xs.length];
                for (int j = 0; j < xs.length; j++) {
                    int[] full = xs[j].data().shape();
                    int[] shape = new int[full.length - 1];
                    for (int i = 0, k = 0; i < full.length; i++) if (i != dim) shape[k++] = full[i];
                    slices[j] = Tensor.zeros(xs[j].dtype(), shape);
                }
                probe = fn.apply(init.clone(), slices);
            }
            Tensor[] out = Arrays.copyOf(init, init.length + probe.ys().length);
            for (int j = 0; j < probe.ys().length; j++) {
                int[] y = probe.ys()[j].data().shape();
                int[] shape = new int[y.length + 1];
                for (int i = 0, k = 0; i < shape.length; i++) shape[i] = i == dim ? 0 : y[k++];
                out[init.length + j] = Tensor.zeros(probe.ys()[j].dtype(), shape);
            }
            return out;
        }
    }

    /**
     * {@code then.apply(operands)} when the 0-d {@code pred} is nonzero, else {@code otherwise.apply(operands)}.
     * Both branches must return the same number of tensors with the same dtypes and shapes (the
     * tracer checks it; eagerly only the taken branch runs). Gradients flow through the taken branch.
     */
    public static Tensor[] cond(Tensor pred, Function<Tensor[], Tensor[]> then, Function<Tensor[], Tensor[]> otherwise, Tensor... operands) {
        return run(new Cond(pred, then, otherwise, operands.clone()));
    }

    /**
     * Runs {@code body} on the carries while {@code cond} of them is nonzero (a 0-d tensor) and
     * returns the final carries; a carry keeps its dtype and shape from one iteration to the next.
     */
    public static Tensor[] whileLoop(Function<Tensor[], Tensor> cond, Function<Tensor[], Tensor[]> body, Tensor... carries) {
        if (carries.length == 0) throw new IllegalArgumentException("whileLoop: needs at least one carry");
        return run(new While(cond, body, carries.clone()));
    }

    /**
     * Runs {@code fn} over the xs along {@code dim}: step t gets the carries and every x's slice at
     * t, and returns new carries and its ys. Returns the final carries and each y stacked along
     * {@code dim}. Traced, the length (the xs' size along dim) stays symbolic.
     */
    public static ScanOutput scan(ScanFn fn, Tensor[] init, Tensor[] xs, int dim) { return scan(fn, init, xs, dim, false); }

    /** As {@link #scan(ScanFn, Tensor[], Tensor[], int)}, from the last step to the first when {@code reverse} (ys stay in place). */
    public static ScanOutput scan(ScanFn fn, Tensor[] init, Tensor[] xs, int dim, boolean reverse) {
        if (xs.length == 0) throw new IllegalArgumentException("scan: needs at least one scanned input (xs)");
        int d = Shapes.normDim("scan", dim, xs[0].dim());
        length(xs, d);
        Tensor[] out = run(new Scan(fn, init.clone(), xs.clone(), d, reverse));
        return new ScanOutput(Arrays.copyOf(out, init.length), Arrays.copyOfRange(out, init.length, out.length));
    }

    private static Tensor[] run(Call call) {
        OpObserver o = Dispatcher.observer();
        if (o != null) {
            Tensor[] traced = o.onControlFlow(call);
            if (traced != null) return traced;
        }
        return call.runEagerly();
    }

    private static int length(Tensor[] xs, int dim) {
        int length = -1;
        for (int j = 0; j < xs.length; j++) {
            if (xs[j] == null) throw new IllegalArgumentException("scan: xs[" + j + "] is null");
            if (dim >= xs[j].dim()) throw new IllegalArgumentException("scan: xs[" + j + "] " + xs[j].typeString() + " has no dim " + dim);
            int n = xs[j].data().shape()[dim];
            if (length >= 0 && n != length) {
                throw new IllegalArgumentException("scan: xs[" + j + "] " + xs[j].typeString() + " has length " + n + " along dim " + dim + ", xs[0] " + length);
            }
            length = n;
        }
        return length;
    }

    static void checkPredicate(String what, Tensor pred) {
        if (pred == null) throw new IllegalArgumentException(what + " is null");
        if (pred.dim() != 0) throw new IllegalArgumentException(what + " must be a 0-d tensor (the predicate), got " + pred.typeString());
    }

    private static Tensor[] requireTensors(String what, Tensor[] ts) {
        if (ts == null) throw new IllegalArgumentException(what + " returned null");
        for (int i = 0; i < ts.length; i++) if (ts[i] == null) throw new IllegalArgumentException(what + " returned null at " + i);
        return ts;
    }

    private static void checkCarries(String where, Tensor[] before, Tensor[] after) {
        if (after.length != before.length) {
            throw new IllegalArgumentException(where + " returned " + after.length + " carries, expected " + before.length);
        }
        for (int i = 0; i < before.length; i++) {
            if (after[i].dtype() != before[i].dtype() || !Arrays.equals(after[i].data().shape(), before[i].data().shape())) {
                throw new IllegalArgumentException(where + ": carry " + i + " came in as " + before[i].typeString() + " and left as "
                        + after[i].typeString() + " (a carry keeps its dtype and shape)");
            }
        }
    }
}
