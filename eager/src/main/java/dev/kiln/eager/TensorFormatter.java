package dev.kiln.eager;

import dev.kiln.backend.DType;

/** PyTorch-style printing: values with a shared format, summarized with "..." past 1000 elements. */
final class TensorFormatter {
    private TensorFormatter() {}

    private static final int THRESHOLD = 1000;
    private static final int EDGE = 3;

    static String format(Tensor t) {
        int[] shape = t.data().shape(); // printing is not shape arithmetic: no tracer report
        double[] v = t.data().storage().length() == 0 && t.data().numel() == 0 ? new double[0] : valuesOf(t);
        boolean summarize = t.data().numel() > THRESHOLD;
        String fmt = numberFormat(t.dtype(), v);
        StringBuilder sb = new StringBuilder("tensor(");
        int indent = 7;
        if (shape.length == 0) sb.append(fmtOne(t.dtype(), v[0], fmt));
        else appendDim(sb, t.dtype(), v, shape, 0, 0, fmt, summarize, indent);
        sb.append(", shape=").append(dev.kiln.backend.shape.Shapes.toString(shape)).append(", dtype=").append(t.dtype().shortName());
        if (!t.device().isCpu()) sb.append(", device=").append(t.device()); // as PyTorch's device='cuda:0'
        if (t.gradFn() != null) sb.append(", gradFn=").append(t.gradFn().name());
        else if (t.requiresGrad()) sb.append(", requiresGrad=true");
        return sb.append(')').toString();
    }

    private static double[] valuesOf(Tensor t) {
        // read without notifying a tracer: printing is not a data-dependent decision
        return dev.kiln.backend.cpu.Copy.toContiguous(t.data(), DType.FLOAT64).storage().f64();
    }

    private static int appendDim(StringBuilder sb, DType dt, double[] v, int[] shape, int d, int base, String fmt, boolean summarize, int indent) {
        int n = shape[d];
        int stride = 1;
        for (int i = d + 1; i < shape.length; i++) stride *= shape[i];
        sb.append('[');
        for (int i = 0; i < n; i++) {
            if (summarize && n > 2 * EDGE && i == EDGE) {
                sb.append(d == shape.length - 1 ? "..., " : "...,\n" + " ".repeat(indent + d + 1));
                i = n - EDGE - 1;
                continue;
            }
            if (d == shape.length - 1) {
                sb.append(fmtOne(dt, v[base + i], fmt));
                if (i < n - 1) sb.append(", ");
            } else {
                appendDim(sb, dt, v, shape, d + 1, base + i * stride, fmt, summarize, indent);
                if (i < n - 1) sb.append(",").append("\n".repeat(shape.length - d - 1)).append(" ".repeat(indent + d + 1));
            }
        }
        sb.append(']');
        return base;
    }

    private static String numberFormat(DType dt, double[] v) {
        if (!dt.isFloatingPoint()) return null;
        boolean ints = true;
        double maxAbs = 0;
        for (double x : v) {
            if (Double.isFinite(x)) {
                if (x != Math.rint(x)) ints = false;
                maxAbs = Math.max(maxAbs, Math.abs(x));
            }
        }
        if (maxAbs >= 1e8 || (maxAbs > 0 && maxAbs < 1e-4)) return "%.4e";
        return ints ? "%.0f." : "%.4f";
    }

    private static String fmtOne(DType dt, double x, String fmt) {
        if (dt == DType.BOOL) return x != 0 ? "true" : "false";
        if (dt == DType.INT64) return Long.toString((long) x);
        if (Double.isNaN(x)) return "nan";
        if (Double.isInfinite(x)) return x > 0 ? "inf" : "-inf";
        return String.format(java.util.Locale.ROOT, fmt, x);
    }
}
