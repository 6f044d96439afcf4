package dev.kiln.graph.opt;

import dev.kiln.backend.DType;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.graph.Graph;
import dev.kiln.graph.NamedTensor;
import dev.kiln.graph.Value;

/** Reads small constants for pattern matching ("is this operand all ones?"). */
final class ConstantValues {
    private ConstantValues() {}

    /** Constants larger than this are not scanned: identity operands are scalars or tiny. */
    private static final int MAX_SCAN = 4096;

    /** Whether every element of constant v is x, a -0.0 and a +0.0 told apart (for float identities). */
    static boolean isAllExactly(Graph g, Value v, double x) {
        if (!isAll(g, v, x)) return false;
        for (NamedTensor c : g.constants()) {
            if (!c.name().equals(v.name())) continue;
            for (double d : Copy.toContiguous(c.data(), DType.FLOAT64).storage().f64()) {
                if (Double.doubleToRawLongBits(d) != Double.doubleToRawLongBits(x)) return false;
            }
        }
        return true;
    }

    /** True when v is a constant whose every element equals x (compared as double; -0.0 == 0.0). */
    static boolean isAll(Graph g, Value v, double x) {
        if (v.kind() != Value.Kind.CONST) return false;
        for (NamedTensor c : g.constants()) {
            if (!c.name().equals(v.name())) continue;
            if (c.data() == null || c.data().numel() > MAX_SCAN) return false;
            for (double d : Copy.toContiguous(c.data(), DType.FLOAT64).storage().f64()) if (d != x) return false;
            return true;
        }
        return false;
    }
}
