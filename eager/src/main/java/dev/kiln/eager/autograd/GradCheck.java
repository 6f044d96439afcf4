package dev.kiln.eager.autograd;

import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Numerical gradient checks (PyTorch's gradcheck/gradgradcheck defaults). */
final class GradCheck {
    private GradCheck() {}

    record Tolerances(double eps, double atol, double rtol) {
        static final Tolerances DEFAULT = new Tolerances(1e-6, 1e-5, 1e-3);
    }

    static boolean check(Function<Tensor[], Tensor[]> fn, Tensor[] inputs, Tolerances tol) {
        for (int i = 0; i < inputs.length; i++) {
            Tensor t = inputs[i];
            if (t.requiresGrad() && t.dtype() != DType.FLOAT64) {
                throw new IllegalArgumentException("gradcheck: input " + i + " is " + t.typeString() + "; use float64 inputs (float32 is too coarse for finite differences)");
            }
        }
        Tensor[] outs = fn.apply(inputs);
        for (int o = 0; o < outs.length; o++) {
            Tensor out = outs[o];
            if (out == null || !out.requiresGrad()) continue;
            int m = out.numel();
            for (int i = 0; i < inputs.length; i++) {
                Tensor x = inputs[i];
                if (!x.requiresGrad()) continue;
                int n = x.numel();
                double[][] analytic = new double[m][];
                for (int k = 0; k < m; k++) {
                    double[] onehot = new double[m];
                    onehot[k] = 1;
                    Tensor v = Tensor.of(onehot, out.shape());
                    Tensor[] g = Autograd.grad(new Tensor[] {fn.apply(inputs)[o]}, new Tensor[] {x}, new Tensor[] {v}, false, false, true);
                    analytic[k] = g[0] == null ? new double[n] : g[0].toDoubleArray();
                }
                for (int j = 0; j < n; j++) {
                    // writes go through noGrad (leaves refuse in-place writes otherwise); the
                    // function itself runs with grad on, since gradgradcheck's function calls grad()
                    double orig = x.getFlat(j);
                    poke(x, j, orig + tol.eps);
                    double[] plus = fn.apply(inputs)[o].toDoubleArray();
                    poke(x, j, orig - tol.eps);
                    double[] minus = fn.apply(inputs)[o].toDoubleArray();
                    poke(x, j, orig);
                    for (int k = 0; k < m; k++) {
                        double num = (plus[k] - minus[k]) / (2 * tol.eps);
                        double an = analytic[k][j];
                        if (Math.abs(an - num) > tol.atol + tol.rtol * Math.abs(num) || Double.isNaN(an) != Double.isNaN(num)) {
                            throw new AssertionError("gradcheck: Jacobian mismatch for output " + o + " element " + k + " with respect to input "
                                    + i + " element " + j + ": numerical " + num + ", analytical " + an
                                    + " (atol " + tol.atol + ", rtol " + tol.rtol + ")");
                        }
                    }
                }
            }
        }
        return true;
    }

    private static void poke(Tensor x, int j, double v) {
        try (var ng = Autograd.noGrad()) {
            x.setFlat(j, v);
        }
    }

    static boolean gradgrad(Function<Tensor[], Tensor[]> fn, Tensor[] inputs, Tolerances tol) {
        Tensor[] outs = fn.apply(inputs);
        List<Integer> diffIdx = new ArrayList<>();
        for (int i = 0; i < inputs.length; i++) if (inputs[i].requiresGrad()) diffIdx.add(i);
        // random but fixed output weights, themselves differentiable as in PyTorch
        Tensor[] vs = new Tensor[outs.length];
        for (int o = 0; o < outs.length; o++) {
            double[] w = new double[outs[o].numel()];
            for (int k = 0; k < w.length; k++) w[k] = 0.5 + 0.37 * Math.sin(1.7 * k + o);
            vs[o] = Tensor.of(w, outs[o].shape()).requiresGrad(true);
        }
        int n = inputs.length;
        Tensor[] all = new Tensor[n + vs.length];
        System.arraycopy(inputs, 0, all, 0, n);
        System.arraycopy(vs, 0, all, n, vs.length);
        Function<Tensor[], Tensor[]> firstGrad = in -> {
            Tensor[] xs = java.util.Arrays.copyOf(in, n);
            Tensor[] v = java.util.Arrays.copyOfRange(in, n, in.length);
            Tensor[] y = fn.apply(xs);
            Tensor[] diff = diffIdx.stream().map(i -> xs[i]).toArray(Tensor[]::new);
            Tensor[] g = Autograd.grad(y, diff, v, true, true, true);
            for (int i = 0; i < g.length; i++) if (g[i] == null) g[i] = Tensor.zerosLike(diff[i]);
            return g;
        };
        return check(firstGrad, all, tol);
    }
}
